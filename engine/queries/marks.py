"""催办/督办 marks on inbox rows (``supervision_marks``): which open tasks a leader pressed on.

A leader's supervision (engine.commands.cases.supervise) is a ``message`` event on the case; a
task shows the strongest level sent since it became ready, with the time of the latest one, so
the recipient sees the press on the row it concerns and not on tasks created afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.model import EventKind
from engine.models import Event
from engine.queries.records import TaskItem

LEVELS = ("remind", "order")  # 催办 < 督办


@dataclass(frozen=True)
class Mark:
    level: str  # "remind" (催办) or "order" (督办): the strongest sent to the task
    at: datetime  # the latest one
    text: str  # its instructions


def _level(data: str) -> tuple[str, str]:
    try:
        payload = orjson.loads(data).get("payload") or {}
    except (orjson.JSONDecodeError, AttributeError):
        return "", ""
    if not isinstance(payload, dict):
        return "", ""
    return str(payload.get("level", "")), str(payload.get("text", ""))


def supervision_marks(session: Session, tasks: list[TaskItem]) -> dict[str, Mark]:
    """Task id → its mark, for the tasks (already visible to the caller) a leader pressed on."""
    if not tasks:
        return {}
    rows = session.execute(select(Event.case_id, Event.at, Event.data)
                           .where(Event.case_id.in_({t.case_id for t in tasks}),
                                  Event.kind == EventKind.MESSAGE).order_by(Event.seq))
    by_case: dict[int, list[tuple[datetime, str, str]]] = {}
    for case_id, at, data in rows:
        level, text = _level(data)
        if level in LEVELS:
            by_case.setdefault(case_id, []).append((at, level, text))
    marks: dict[str, Mark] = {}
    for t in tasks:
        sent = [m for m in by_case.get(t.case_id, []) if m[0] >= t.created_at]
        if sent:
            strongest = max(LEVELS.index(level) for _at, level, _text in sent)
            marks[t.id] = Mark(LEVELS[strongest], sent[-1][0], sent[-1][2])
    return marks


__all__ = ["Mark", "supervision_marks"]

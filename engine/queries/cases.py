"""One case: its record (``case_view``), its history (``case_history``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.model import Actor
from engine.models import Case, Event, ProblemClass, User
from engine.queries.records import (
    CASE_COLUMNS,
    EVENT_COLUMNS,
    CaseRecord,
    HistoryEvent,
    TaskItem,
    case_record,
    history_event,
)
from engine.queries.visibility import check_case_visible


def _select_case(where: ColumnElement[bool]) -> Any:
    return select(*CASE_COLUMNS).outerjoin(ProblemClass, ProblemClass.code == Case.class_code).where(where)


def find_case(session: Session, number_or_id: str | int) -> CaseRecord | None:
    """The case with this number (a string) or id (an int), without any visibility check."""
    where = Case.id == number_or_id if isinstance(number_or_id, int) else Case.number == number_or_id
    row = session.execute(_select_case(where)).first()
    return case_record(row) if row is not None else None


def load_case(session: Session, number_or_id: str | int) -> CaseRecord:
    record = find_case(session, number_or_id)
    if record is None:
        raise NotFound(f"case {number_or_id} does not exist")
    return record


@dataclass(frozen=True)
class CaseView:
    """A case with its open tasks, for the case page and ``GET /cases/{number}``."""

    case: CaseRecord
    tasks: list[TaskItem]


def case_view(session: Session, actor: Actor | None, number_or_id: str | int) -> CaseView:
    """NotFound for an unknown case, Forbidden outside the actor's department or area."""
    from engine.queries.tasks import case_tasks  # tasks imports this module

    record = load_case(session, number_or_id)
    check_case_visible(actor, record)
    return CaseView(record, case_tasks(session, record.id))


def case_history(session: Session, actor: Actor | None, case: Any) -> list[HistoryEvent]:
    """The case's events in order (``case``: a CaseRecord, a Case row, or anything with id, number,
    department_code and district_code); Forbidden outside the actor's scope."""
    check_case_visible(actor, case)
    stmt = (select(*EVENT_COLUMNS).outerjoin(User, User.username == Event.actor)
            .where(Event.case_id == case.id).order_by(Event.seq))
    return [history_event(r) for r in session.execute(stmt)]


__all__ = ["CaseView", "find_case", "load_case", "case_view", "case_history"]

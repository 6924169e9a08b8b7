"""What an approval or check task decides (``decision_context``): the request it answers and
the earlier rounds of handling and checking, read from the case's history events.

A department's 处置 (handle) round either reports the work done or asks for a return, an
extension or a suspension; the approvals (回退/延期/挂账审核) decide on that request, 核查
(check) judges the work done, 结案 (close) sees the last check. The pages show the request
next to the decision form, so the deciding user never has to leave the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.model import Actor, EventKind
from engine.queries.cases import case_history
from engine.queries.records import CaseRecord, HistoryEvent

# The step whose latest completion each deciding task answers.
ANSWERS = {
    "approve_return": "handle", "approve_extension": "handle", "approve_suspension": "handle",
    "check": "handle", "close": "check", "resume": "approve_suspension",
}
# The steps that make up a handling round and its judgement (shown as earlier rounds).
ROUND_STEPS = ("handle", "approve_return", "approve_extension", "approve_suspension", "resume", "check")
# Form fields that hold attachment tokens.
PHOTO_FIELDS = ("photos",)


@dataclass(frozen=True)
class Step:
    """One completed step: who, when, which step, the form they sent and its photos."""

    at: datetime
    actor: str
    actor_name: str
    step: str
    round: int  # 1 for the first handling round, 2 after the first rework or return…
    form: dict[str, Any]
    photos: tuple[str, ...]


@dataclass(frozen=True)
class DecisionContext:
    """``request``: the completed step this task decides on (None if there is none yet);
    ``earlier``: the handling and checking steps before it, oldest first."""

    request: Step | None
    earlier: list[Step]


def _photos(form: dict[str, Any]) -> tuple[str, ...]:
    tokens: list[str] = []
    for key in PHOTO_FIELDS:
        value = form.get(key)
        if isinstance(value, list):
            tokens += [str(v) for v in value if isinstance(v, str)]
    return tuple(tokens)


def handling_steps(events: list[HistoryEvent]) -> list[Step]:
    """The completed handling-round steps of a history, numbered by round (a new round starts with
    each 处置 after the first)."""
    steps: list[Step] = []
    round_no = 0
    for e in events:
        if e.kind != EventKind.COMPLETE or e.task_spec not in ROUND_STEPS:
            continue
        if e.task_spec == "handle":
            round_no += 1
        form = e.data.get("form") if isinstance(e.data.get("form"), dict) else {}
        steps.append(Step(e.at, e.actor, e.actor_name, e.task_spec, max(round_no, 1), dict(form or {}),
                          _photos(form or {})))
    return steps


def decision_context(session: Session, actor: Actor, case: CaseRecord, spec_id: str) -> DecisionContext | None:
    """What the task ``spec_id`` of ``case`` decides, for ``actor`` (who must see the case);
    None for tasks that decide on no earlier step."""
    answered = ANSWERS.get(spec_id)
    if answered is None:
        return None
    steps = handling_steps(case_history(session, actor, case))
    index = next((i for i in range(len(steps) - 1, -1, -1) if steps[i].step == answered), None)
    if index is None:
        return DecisionContext(None, steps)
    return DecisionContext(steps[index], steps[:index])


__all__ = ["ANSWERS", "ROUND_STEPS", "Step", "DecisionContext", "handling_steps", "decision_context"]

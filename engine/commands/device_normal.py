"""A device back to normal tells its open case: the ``device_normal`` message, which the lifecycle's
``Device_normal`` event subprocess catches and answers with a check task (核查) for a supervisor.

One command frame: one ``message`` history event carrying the payload, so replay delivers the
same message at the same instant and ``verify`` reproduces the check task."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.commands.frame import CommandFrame, Outcome
from engine.commands.results import CaseResult
from engine.commands.steps import apply_message
from engine.metrics import Command
from engine.model import OPEN_STATUSES, Actor, EngineContext, EventKind

MESSAGE = "device_normal"  # the message name in bpmn/case_lifecycle.bpmn (Device_msg_normal)


def device_back_to_normal(session: Session, ctx: EngineContext, case_id: int, actor: Actor,
                          payload: dict[str, Any]) -> CaseResult | None:
    """Deliver the message to the case; None when the case is no longer open (nothing written)."""
    with CommandFrame(session, ctx, Command.DEVICE_NORMAL) as frame:
        case = frame.case(case_id)
        if case.status not in OPEN_STATUSES:
            return None
        loaded = frame.load(case)
        outcome = Outcome(EventKind.MESSAGE, actor.username, data={"message": MESSAGE, "payload": payload})
        frame.run(loaded, outcome, lambda wf: apply_message(wf, MESSAGE, payload))
        return frame.save(loaded, outcome)

"""Commands on a whole case: fire_timers (the scheduler), supervise (leaders), rate_case (reporters)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.commands.frame import CommandFrame, Outcome
from engine.commands.results import CaseResult, RatingResult
from engine.commands.snapshot import snapshot
from engine.commands.steps import apply_message, apply_timers
from engine.errors import Conflict, Forbidden, ValidationError
from engine.metrics import Command
from engine.model import OPEN_STATUSES, Actor, CaseStatus, EngineContext, EventKind, Role
from engine.queries.visibility import may_supervise

SUPERVISION_LEVELS = ("remind", "order")  # 催办, 督办
# Rating a case moves the chain head and sets the rating once, in one guarded statement.
_RATE = ("UPDATE case_record SET last_seq = :seq, last_hash = :hash, rating = :rating, rating_note = :note "
         "WHERE id = :id AND last_seq = :last_seq AND rating IS NULL")


def fire_timers(session: Session, ctx: EngineContext, case_id: int) -> CaseResult | None:
    """Fire the case's timers that are due on ``ctx.clock``; None when nothing was due."""
    with CommandFrame(session, ctx, Command.FIRE_TIMERS) as frame:
        loaded = frame.load(frame.case(case_id))
        outcome = frame.run(loaded, Outcome(EventKind.TIMER, "scheduler"), apply_timers)
        after = snapshot(loaded.workflow)
        fired = sorted(loaded.before.timers.keys() - after.timers.keys())
        if not fired:
            # Nothing was due (or another scheduler fired it first): leave the case untouched.
            frame.discard(loaded)
            return None
        outcome.data["fired"] = fired
        return frame.save(loaded, outcome, after)


def supervise(session: Session, ctx: EngineContext, case_id: int, actor: Actor, level: str,
              text_: str) -> CaseResult:
    """A leader's supervision order (督办) or reminder (催办) on an open case."""
    if actor.role != Role.LEADER:
        raise Forbidden("only leaders issue supervision orders")
    if level not in SUPERVISION_LEVELS:
        raise ValidationError("level must be remind (催办) or order (督办)", {"level": "remind | order"})
    if not isinstance(text_, str) or not text_.strip() or len(text_) > 2000:
        raise ValidationError("the order needs a text of 1–2000 characters", {"text": "required"})
    with CommandFrame(session, ctx, Command.SUPERVISE) as frame:
        case = frame.case(case_id)
        if case.status not in OPEN_STATUSES:
            raise Conflict(f"case {case.number} is {case.status}; supervision orders are for open cases")
        if not may_supervise(actor, case):
            raise Forbidden(f"case {case.number} is handled by {case.department_code}, not your department")
        loaded = frame.load(case)
        payload = {"level": level, "text": text_.strip(), "to": case.department_code or "command_center",
                   "by": actor.username}
        outcome = Outcome(EventKind.MESSAGE, actor.username,
                          data={"message": "supervision_order", "payload": payload})
        frame.run(loaded, outcome, lambda wf: apply_message(wf, "supervision_order", payload))
        return frame.save(loaded, outcome)


def rate_case(session: Session, ctx: EngineContext, case_id: int, rating: int, note: str = "") -> RatingResult:
    """The reporter's rating of a closed case (1–5 and a comment), kept on the case and in its history."""
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ValidationError("the rating must be 1 to 5", {"rating": "1–5"})
    if len(note or "") > 1000:
        raise ValidationError("the comment may have at most 1000 characters", {"note": "≤ 1000"})
    note = (note or "").strip()
    with CommandFrame(session, ctx, Command.RATE_CASE) as frame:
        case = frame.case(case_id)
        if case.status != CaseStatus.CLOSED:
            raise Conflict(f"case {case.number} is {case.status}; it can be rated once closed")
        try:
            frame.annotate(case, Actor("reporter", Role.CITIZEN), EventKind.RATING, data={"rating": rating, "note": note},
                           advance=_RATE, params={"rating": rating, "note": note or None})
        except Conflict:
            raise Conflict(f"case {case.number} has already been rated") from None
        return RatingResult(case_id, rating)

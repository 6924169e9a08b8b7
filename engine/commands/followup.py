"""After the report, before and after closing: merge a duplicate into its original, reopen a closed
case within the reopen window, and the reporter's answer to the callback (回访).

* ``merge_case``: an acceptor or shift leader merges an open duplicate into an open original of
  the same kind of problem. The duplicate's workflow ends (its open tasks are cancelled) and its
  status becomes ``merged`` with a ``merge`` event naming the original; the original gets a
  ``duplicate`` event naming the duplicate. The duplicate's follow-up link then shows the
  original's progress (engine.queries.public).
* ``reopen_case``: the reporter (follow-up page) or the center (acceptor, shift leader) reopens a
  case closed at most ``REOPEN_DAYS`` days ago. While its callback (``Followup_callback``) is still
  open, the reopen answers it ("unsatisfied, reopen"); after that, a ``reopen`` event takes the
  workflow back to the BPMN's ``Reopen_gw`` with ``reopen`` set. Either way the gateway starts a
  new handling round: dispatch, handle, check and close again.

Refusals carry a ``Refusal`` code in ``ValidationError.fields`` / ``Conflict`` messages so pages
can say them in the user's language.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.commands.frame import CaseRef, CommandFrame, Outcome
from engine.commands.results import CaseResult
from engine.commands.steps import apply_complete, apply_merge, apply_reopen
from engine.errors import Conflict, Forbidden, ValidationError
from engine.forms import validate as validate_form
from engine.metrics import Command
from engine.model import CALLBACK_TASK, OPEN_STATUSES, Actor, CaseStatus, EngineContext, EventKind, Role
from engine.models import Case, TaskRow

MERGERS = (Role.ACCEPTOR, Role.SHIFT_LEADER)
REOPENERS = (Role.ACCEPTOR, Role.SHIFT_LEADER, Role.CITIZEN)
REOPEN_DAYS = 7  # a closed case may be reopened this many (calendar) days after closing
SATISFACTIONS = ("satisfied", "basically", "unsatisfied")
REASON_CHARS = 500


class Refusal(StrEnum):
    """Why a merge or reopen was refused (the field code pages translate)."""

    SAME_CASE = "same case"
    DUPLICATE_NOT_OPEN = "duplicate not open"
    ORIGINAL_NOT_OPEN = "original not open"
    OTHER_KIND = "different kind of problem"
    NO_ORIGINAL = "no such case"
    NOT_CLOSED = "not closed"
    WINDOW_PASSED = "reopen window passed"
    NO_REOPEN_STEP = "no reopen step"
    REASON = "reason required"


def _reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > REASON_CHARS:
        raise ValidationError(f"a reason of 1–{REASON_CHARS} characters is required", {"reason": Refusal.REASON})
    return text


def same_kind(a: str, b: str) -> bool:
    """Two classes may describe one problem: same kind (部件 C / 事件 E) and same major class."""
    return a[:3] == b[:3]


def merge_case(session: Session, ctx: EngineContext, duplicate_id: int, original_number: str, actor: Actor,
               reason: str) -> CaseResult:
    """Merge the open case ``duplicate_id`` into the open case numbered ``original_number``."""
    if actor.role not in MERGERS:
        raise Forbidden("only acceptors and shift leaders merge duplicates")
    reason = _reason(reason)
    original_id = session.scalar(select(Case.id).where(Case.number == (original_number or "").strip()))
    if original_id is None:
        raise ValidationError(f"case {original_number!r} does not exist", {"original": Refusal.NO_ORIGINAL})
    if original_id == duplicate_id:
        raise ValidationError("a case cannot be merged into itself", {"original": Refusal.SAME_CASE})
    with CommandFrame(session, ctx, Command.MERGE_CASE) as frame:
        # Lock both rows in id order, as any two commands on the same pair would, so they queue.
        locked = {cid: frame.case(cid) for cid in sorted((duplicate_id, original_id))}
        duplicate, original = locked[duplicate_id], locked[original_id]
        _check_merge(duplicate, original)
        loaded = frame.load(duplicate)
        outcome = Outcome(EventKind.MERGE, actor.username, data={"original": original.number, "reason": reason})
        frame.run(loaded, outcome, lambda wf: apply_merge(wf, original.number))
        frame.annotate(original, actor, EventKind.DUPLICATE, data={"duplicate": duplicate.number, "reason": reason})
        return frame.save(loaded, outcome)


def _check_merge(duplicate: CaseRef, original: CaseRef) -> None:
    if duplicate.status not in OPEN_STATUSES:
        raise Conflict(f"case {duplicate.number} is {duplicate.status}; only open cases are merged "
                       f"[{Refusal.DUPLICATE_NOT_OPEN}]")
    if original.status not in OPEN_STATUSES:
        raise ValidationError(f"case {original.number} is {original.status}; merge into an open case",
                              {"original": Refusal.ORIGINAL_NOT_OPEN})
    if not same_kind(duplicate.class_code, original.class_code):
        raise ValidationError(f"{duplicate.class_code} and {original.class_code} are different kinds of problem; "
                              "correct the class first if they are the same", {"original": Refusal.OTHER_KIND})


def reopen_case(session: Session, ctx: EngineContext, case_id: int, actor: Actor, reason: str,
                channel: str = "web") -> CaseResult:
    """Reopen a case closed at most REOPEN_DAYS days ago: a new handling round of the same case."""
    if actor.role not in REOPENERS:
        raise Forbidden("only the reporter, acceptors and shift leaders reopen cases")
    reason = _reason(reason)
    with CommandFrame(session, ctx, Command.REOPEN_CASE) as frame:
        case = frame.case(case_id)
        if case.status != CaseStatus.CLOSED:
            raise Conflict(f"case {case.number} is {case.status}; only closed cases are reopened "
                           f"[{Refusal.NOT_CLOSED}]")
        closed_at = session.scalar(select(Case.closed_at).where(Case.id == case_id))
        if closed_at is not None and frame.now > _aware(closed_at) + timedelta(days=REOPEN_DAYS):
            raise Conflict(f"case {case.number} was closed more than {REOPEN_DAYS} days ago; report the problem "
                           f"again [{Refusal.WINDOW_PASSED}]")
        loaded = frame.load(case)
        callback = open_callback(session, case_id)
        if callback is not None:
            # The callback is still open: the reopen is the reporter's answer to it.
            outcome = _answer(frame, loaded, callback, actor, {"satisfaction": "unsatisfied", "channel": channel,
                                                               "reopen": True, "note": reason})
        else:
            values = {"reopen_reason": reason}
            outcome = Outcome(EventKind.REOPEN, actor.username, data={"reason": reason, "workflow": values})
            try:
                frame.run(loaded, outcome, lambda wf: apply_reopen(wf, values))
            except Conflict:
                raise Conflict(f"case {case.number} cannot be reopened: its process has no reopen step "
                               f"[{Refusal.NO_REOPEN_STEP}]") from None
        return frame.save(loaded, outcome)


def open_callback(session: Session, case_id: int) -> str | None:
    """The id of the case's open callback task, if any."""
    return session.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.spec_id == CALLBACK_TASK))


def _answer(frame: CommandFrame, loaded: Any, task_id: str, actor: Actor, answer: dict[str, Any]) -> Outcome:
    form = loaded.definition.user_tasks[CALLBACK_TASK].form
    clean = validate_form(form, answer, {})
    outcome = Outcome(EventKind.COMPLETE, actor.username, task_id, CALLBACK_TASK, {"form": clean})
    frame.run(loaded, outcome, lambda wf: apply_complete(wf, task_id, clean))
    return outcome


def satisfaction_of(rating: int) -> str:
    """A follow-up page rating (1–5 stars) as the callback's answer."""
    return "satisfied" if rating >= 4 else "basically" if rating == 3 else "unsatisfied"


def answer_callback(session: Session, ctx: EngineContext, case_id: int, rating: int, note: str = "") -> CaseResult | None:
    """The reporter's rating on the follow-up page answers the open callback (回访) through the web,
    so the center need not call; None when no callback is open. Reopening stays the reporter's
    explicit choice (``reopen_case``)."""
    with CommandFrame(session, ctx, Command.COMPLETE_TASK) as frame:
        case = frame.case(case_id)
        task_id = open_callback(session, case_id)
        if task_id is None:
            return None
        loaded = frame.load(case)
        outcome = _answer(frame, loaded, task_id, Actor("reporter", Role.CITIZEN),
                          {"satisfaction": satisfaction_of(rating), "channel": "web", "reopen": False,
                           "note": (note or "")[:2000]})
        return frame.save(loaded, outcome)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def reopen_until(closed_at: datetime | None) -> datetime | None:
    """The last instant a case closed at ``closed_at`` may be reopened."""
    return _aware(closed_at) + timedelta(days=REOPEN_DAYS) if closed_at is not None else None


__all__ = ["answer_callback", "open_callback", "satisfaction_of", "MERGERS", "REOPENERS", "REOPEN_DAYS", "Refusal", "SATISFACTIONS", "merge_case",
           "reopen_case", "reopen_until", "same_kind"]

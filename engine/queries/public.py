"""What a reporter sees through the follow-up link: the case's headline and its milestones, never
names, notes or the workflow's data (the token is the only credential)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.model import CALLBACK_TASK, CaseStatus, EventKind
from engine.models import Case, Event

REOPENED = "reopen"  # a milestone: the case was reopened (a reopen event, or the callback's answer)
TOKEN_CHARS = (16, 64)  # tokens are issued with 24 random bytes (32 characters); anything else is a miss


@dataclass(frozen=True)
class PublicCase:
    id: int
    number: str
    status: str
    class_code: str
    district_code: str
    street_code: str
    address: str
    description: str  # the reporter's own words
    created_at: datetime
    rating: int | None
    rating_note: str | None
    closed_at: datetime | None = None

    @property
    def may_rate(self) -> bool:
        return self.status == CaseStatus.CLOSED and self.rating is None


@dataclass(frozen=True)
class Milestone:
    """A completed step: its task spec id and, when its form made one, the decision (e.g. file → void)."""

    at: datetime
    step: str
    decision: str | None


_PUBLIC_COLUMNS = (Case.id, Case.number, Case.status, Case.class_code, Case.district_code, Case.street_code,
                   Case.address, Case.description, Case.created_at, Case.rating, Case.rating_note, Case.closed_at)


def public_case(session: Session, token: str) -> PublicCase:
    """The case of a follow-up token; NotFound for anything else."""
    row = None
    if TOKEN_CHARS[0] <= len(token) <= TOKEN_CHARS[1]:
        row = session.execute(select(*_PUBLIC_COLUMNS).where(Case.public_token == token)).first()
    if row is None:
        raise NotFound("this follow-up link is not valid")
    return PublicCase(*row)


def milestones(session: Session, case_id: int) -> list[Milestone]:
    """The completed steps in order (the caller picks which to show and how to name them)."""
    rows = session.execute(select(Event.at, Event.task_spec, Event.data, Event.kind)
                           .where(Event.case_id == case_id, Event.kind.in_((EventKind.COMPLETE, EventKind.REOPEN)))
                           .order_by(Event.seq))
    result = []
    for at, step, data, kind in rows:
        if kind == EventKind.REOPEN:
            result.append(Milestone(at, REOPENED, None))
            continue
        try:
            form = orjson.loads(data).get("form") or {}
        except (orjson.JSONDecodeError, AttributeError):
            form = {}
        decision = form.get("decision") if isinstance(form, dict) else None
        if step == CALLBACK_TASK and isinstance(form, dict) and form.get("reopen"):
            decision = REOPENED  # the callback's answer reopened the case
        result.append(Milestone(at, step or "", decision if isinstance(decision, str) else None))
    return result


def merged_into(session: Session, case_id: int) -> str | None:
    """The number of the case a merged duplicate was merged into (its ``merge`` event names it)."""
    raw = session.scalar(select(Event.data).where(Event.case_id == case_id, Event.kind == EventKind.MERGE)
                         .order_by(Event.seq.desc()).limit(1))
    if raw is None:
        return None
    original = orjson.loads(raw).get("original")
    return original if isinstance(original, str) else None


def merge_link(session: Session, case_id: int, status: str) -> str | None:
    """For a merged case: the original's number."""
    return merged_into(session, case_id) if status == CaseStatus.MERGED else None


def followed_case(session: Session, case: PublicCase) -> PublicCase:
    """The case a reporter follows: a merged duplicate's reporter follows its original (and
    that one's original, should it have been merged too)."""
    seen = {case.id}
    while case.status == CaseStatus.MERGED:
        number = merged_into(session, case.id)
        row = session.execute(select(*_PUBLIC_COLUMNS).where(Case.number == number)).first() if number else None
        if row is None or row[0] in seen:
            break
        case = PublicCase(*row)
        seen.add(case.id)
    return case


def follow_token(session: Session, case_id: int) -> str | None:
    """The follow-up token of a case just filed (shown once to the reporter)."""
    return session.scalar(select(Case.public_token).where(Case.id == case_id))


__all__ = ["PublicCase", "Milestone", "public_case", "milestones", "follow_token", "followed_case", "merge_link",
           "merged_into"]

"""Start and end of duty on the supervisor's phone. Both are idempotent: starting while on duty
returns the open period, ending when off duty changes nothing (a double tap or a resent request
is harmless)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.patrol.models import Duty


@dataclass(frozen=True)
class DutyState:
    username: str
    on_duty: bool
    started_at: datetime | None
    ended_at: datetime | None


def _open(session: Session, username: str) -> Duty | None:
    return session.scalars(select(Duty).where(Duty.username == username, Duty.ended_at.is_(None))
                           .order_by(Duty.started_at.desc()).limit(1)).first()


def _state(username: str, duty: Duty | None) -> DutyState:
    if duty is None:
        return DutyState(username, False, None, None)
    return DutyState(username, duty.ended_at is None, duty.started_at, duty.ended_at)


def duty_state(session: Session, username: str) -> DutyState:
    last = session.scalars(select(Duty).where(Duty.username == username)
                           .order_by(Duty.started_at.desc()).limit(1)).first()
    return _state(username, last)


def start_duty(session: Session, username: str, now: datetime) -> DutyState:
    duty = _open(session, username)
    if duty is None:
        duty = Duty(username=username, started_at=now, ended_at=None)
        session.add(duty)
        session.flush()
    return _state(username, duty)


def end_duty(session: Session, username: str, now: datetime) -> DutyState:
    duty = _open(session, username)
    if duty is None:
        return duty_state(session, username)
    duty.ended_at = max(now, duty.started_at)
    session.flush()
    return _state(username, duty)


def duties_between(session: Session, username: str | None, start: datetime, end: datetime) -> list[Duty]:
    """Duty periods overlapping [start, end) (an open one counts as lasting until ``end``)."""
    stmt = select(Duty).where(Duty.started_at < end, (Duty.ended_at.is_(None)) | (Duty.ended_at > start))
    if username is not None:
        stmt = stmt.where(Duty.username == username)
    return list(session.scalars(stmt.order_by(Duty.username, Duty.started_at)))

"""The roster: which supervisor is due on which day, from when to when, in which grid cells.
Shifts are given in the city's local time and stored as UTC instants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.model import Role
from engine.models import GridCell, User
from engine.patrol.models import RosterEntry

_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True)
class Shift:
    username: str
    day: date
    start: datetime
    end: datetime
    grid_codes: tuple[str, ...]


def _local(day: date, hhmm: str, tz: ZoneInfo, field: str) -> datetime:
    if not isinstance(hhmm, str) or not _HHMM.fullmatch(hhmm):
        raise ValidationError(f"{field} is a time of day HH:MM", {field: "HH:MM"})
    return datetime.combine(day, time.fromisoformat(hhmm), tz)


def set_shift(session: Session, username: str, day: date, start: str, end: str, grid_codes: list[str],
              timezone: str) -> Shift:
    """Put ``username`` on the roster for ``day`` (replacing that day's shift)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.role != Role.SUPERVISOR or not user.active:
        raise ValidationError(f"{username} is not an active supervisor", {"username": "not a supervisor"})
    tz = ZoneInfo(timezone)
    begin, finish = _local(day, start, tz, "start"), _local(day, end, tz, "end")
    if finish <= begin:
        finish += timedelta(days=1)  # a night shift ends the next morning
    codes = sorted(set(grid_codes))
    found = set(session.scalars(select(GridCell.code).where(GridCell.code.in_(codes)))) if codes else set()
    if missing := [c for c in codes if c not in found]:
        raise ValidationError(f"unknown grid cells: {', '.join(missing[:5])}", {"grid_codes": "unknown cell"})
    row = session.scalar(select(RosterEntry).where(RosterEntry.username == username, RosterEntry.day == day))
    if row is None:
        row = RosterEntry(username=username, day=day)
        session.add(row)
    row.shift_start, row.shift_end, row.grid_codes = begin, finish, orjson.dumps(codes).decode()
    session.flush()
    return _shift(row)


def _shift(row: RosterEntry) -> Shift:
    return Shift(row.username, row.day, row.shift_start, row.shift_end, tuple(orjson.loads(row.grid_codes)))


def shifts_between(session: Session, first: date, last: date, username: str | None = None) -> list[Shift]:
    stmt = select(RosterEntry).where(RosterEntry.day >= first, RosterEntry.day <= last)
    if username is not None:
        stmt = stmt.where(RosterEntry.username == username)
    return [_shift(r) for r in session.scalars(stmt.order_by(RosterEntry.day, RosterEntry.username))]

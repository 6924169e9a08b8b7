"""Attendance per day against the roster: late, early, absent (考勤).

A supervisor is late when the first duty overlapping the shift started more than ``GRACE`` after
the shift's start, early when the last one ended more than ``GRACE`` before its end, absent when
no duty overlaps the shift at all once it has begun."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from engine.patrol.duty import duties_between
from engine.patrol.models import Attendance
from engine.patrol.roster import Shift, shifts_between

GRACE = timedelta(minutes=5)  # the common 考勤 tolerance; a city with another changes it here


@dataclass(frozen=True)
class AttendanceRow:
    username: str
    day: date
    shift_start: datetime
    shift_end: datetime
    first_start: datetime | None
    last_end: datetime | None  # None while on duty
    status: Attendance
    late_minutes: int
    early_minutes: int


def judge(shift: Shift, session: Session, now: datetime) -> AttendanceRow:
    duties = duties_between(session, shift.username, shift.start, shift.end)
    if not duties:
        status = Attendance.NOT_STARTED if now < shift.start + GRACE else Attendance.ABSENT
        return AttendanceRow(shift.username, shift.day, shift.start, shift.end, None, None, status, 0, 0)
    first = min(d.started_at for d in duties)
    still = any(d.ended_at is None for d in duties)
    last = None if still else max(d.ended_at for d in duties if d.ended_at is not None)
    late = max(0, int((first - shift.start) / timedelta(minutes=1))) if first > shift.start + GRACE else 0
    early = max(0, int((shift.end - last) / timedelta(minutes=1))) if last and last < shift.end - GRACE else 0
    if late and early:
        status = Attendance.LATE_AND_EARLY
    elif late:
        status = Attendance.LATE
    elif early:
        status = Attendance.EARLY
    elif still and now < shift.end:
        status = Attendance.ON_DUTY
    else:
        status = Attendance.ON_TIME
    return AttendanceRow(shift.username, shift.day, shift.start, shift.end, first, last, status, late, early)


def attendance(session: Session, first: date, last: date, now: datetime,
               username: str | None = None) -> list[AttendanceRow]:
    """Each rostered shift from ``first`` to ``last`` (local dates) and how it was kept."""
    return [judge(s, session, now) for s in shifts_between(session, first, last, username)]

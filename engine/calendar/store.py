"""The calendar table: a ``WorkCalendar`` built from its rows, cached per process, and admins' edits.

Every write to the table (seeding, ``set_day``) bumps the ``calendar_version`` counter row in the
caller's transaction. ``get_calendar`` keeps one calendar per (database URL, tz, default windows)
and checks that counter — a single primary-key read, because every engine command asks for the
calendar — before reusing it. The counter is shared by every process using the database. Raw SQL
that changes the calendar table without bumping the counter needs ``invalidate_calendar_cache()``
(or a restart). None of the functions here commit; the caller owns the transaction.
"""

from __future__ import annotations

import threading
import time as time_module
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from cachetools import LRUCache
from sqlalchemy import CursorResult, select, text, update
from sqlalchemy.orm import Session

from engine.calendar.arith import WorkCalendar
from engine.calendar.windows import Window, coerce_windows, windows_from_json, windows_to_json
from engine.models import CalendarDay, Counter

SOURCE_CHINESE_CALENDAR = "chinese_calendar"
SOURCE_HOLIDAYS = "holidays"
SOURCE_ADMIN = "admin"

#: Name of the ``Counter`` row bumped by every write to the calendar table.
VERSION_COUNTER = "calendar_version"

# (url, tz, default windows) -> (counter value, calendar, monotonic time of the last check).
# A handful of entries in practice (one per database and setting); the bound only guards tests
# and tools that open many databases in one process.
_CACHE: LRUCache[tuple[str, str, str], tuple[object, WorkCalendar, float]] = LRUCache(maxsize=64)
_CACHE_LOCK = threading.Lock()
_VERSION_SQL = text("SELECT value FROM counter WHERE name = :name")


def load_calendar(session: Session, tz: str, default_windows: str) -> WorkCalendar:
    """A calendar from every ``CalendarDay`` row (days without a row follow the default schedule)."""
    days: dict[date, tuple[bool, list[Window]]] = {}
    for row in session.execute(select(CalendarDay.day, CalendarDay.is_working, CalendarDay.windows)):
        try:
            days[row.day] = (bool(row.is_working), windows_from_json(row.windows) if row.is_working else [])
        except ValueError as exc:
            raise ValueError(f"calendar day {row.day}: {exc}") from None
    return WorkCalendar(days, default_windows, tz)


def get_calendar(session: Session, tz: str, default_windows: str, max_age: float = 0.0) -> WorkCalendar:
    """The calendar for this database, reloaded only when the table changed (see the module note).

    ``max_age``: seconds during which a cached calendar is used without asking the database
    (engine commands pass 1 s: an admin's edit reaches running processes within a second)."""
    key = (str(session.get_bind().engine.url), tz, default_windows)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    now = time_module.monotonic()
    if hit is not None and max_age > 0 and now - hit[2] < max_age:
        return hit[1]
    version = session.execute(_VERSION_SQL, {"name": VERSION_COUNTER}).scalar()
    calendar = hit[1] if hit is not None and hit[0] == version else load_calendar(session, tz, default_windows)
    with _CACHE_LOCK:
        _CACHE[key] = (version, calendar, now)
    return calendar


def invalidate_calendar_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def bump_version(session: Session) -> None:
    """Tell every process's ``get_calendar`` that the table changed (in the caller's transaction)."""
    # An UPDATE statement's result is a CursorResult (it has rowcount); Session.execute is typed wider.
    result = cast("CursorResult[Any]", session.execute(
        update(Counter).where(Counter.name == VERSION_COUNTER).values(value=Counter.value + 1)
    ))
    if result.rowcount == 0:
        session.add(Counter(name=VERSION_COUNTER, value=1))
        session.flush()


def set_day(
    session: Session,
    day: date,
    is_working: bool,
    windows: str | Sequence[Window] | None = None,
    note: str = "",
) -> CalendarDay:
    """An admin edit of one day (``source="admin"``; re-seeding keeps it). Does not commit.

    ``windows`` only for working days; ``None`` means the calendar's default windows (stored as ``[]``).
    """
    if isinstance(day, datetime) or not isinstance(day, date):
        raise ValueError(f"day must be a date, not {day!r}")
    wins = coerce_windows(windows)
    if not is_working and wins:
        raise ValueError(f"{day} is marked off: a day off has no work windows")
    note = note or ""
    if len(note) > 100:
        raise ValueError(f"note is {len(note)} characters long: at most 100")
    row = session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day)
        session.add(row)
    row.is_working = bool(is_working)
    row.windows = windows_to_json(wins)
    row.note = note
    row.source = SOURCE_ADMIN
    session.flush()
    bump_version(session)
    return row

"""The working-time calendar: which days are working days, their work windows, working-time arithmetic.

* :mod:`engine.calendar.windows` — work windows ("08:30-12:00,13:30-17:30") and time zones;
* :mod:`engine.calendar.arith` — ``WorkCalendar``: working-time arithmetic, no database, no clock;
* :mod:`engine.calendar.store` — the calendar table: loading, the per-process cache, admins' edits;
* :mod:`engine.calendar.seed` — seeding the table from ``chinese_calendar`` / ``holidays``.
"""

from engine.calendar.arith import UtcWindow, WorkCalendar
from engine.calendar.seed import PlannedDay, plan_year, seed_calendar, source_for_year
from engine.calendar.store import (
    SOURCE_ADMIN,
    SOURCE_CHINESE_CALENDAR,
    SOURCE_HOLIDAYS,
    VERSION_COUNTER,
    get_calendar,
    invalidate_calendar_cache,
    load_calendar,
    set_day,
)
from engine.calendar.windows import (
    DEFAULT_TZ,
    DEFAULT_WINDOWS,
    Window,
    format_windows,
    parse_windows,
    windows_from_json,
    windows_to_json,
)

__all__ = [
    "DEFAULT_TZ", "DEFAULT_WINDOWS", "SOURCE_ADMIN", "SOURCE_CHINESE_CALENDAR", "SOURCE_HOLIDAYS",
    "VERSION_COUNTER", "PlannedDay", "UtcWindow", "Window", "WorkCalendar", "format_windows", "get_calendar",
    "invalidate_calendar_cache", "load_calendar", "parse_windows", "plan_year", "seed_calendar", "set_day",
    "source_for_year", "windows_from_json", "windows_to_json",
]

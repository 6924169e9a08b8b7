"""The working-time calendar: which days are working days, their work windows, and working-time arithmetic.

Deadlines in 数字城管 are counted in working time (DOMAIN.md §4): "N 工作时" is N hours inside the work
windows, "N 工作日" is N working days of the calendar's schedule (not N × 24 h), and time spent
suspended (挂账) does not count.

* Every instant that goes in or comes out is a timezone-aware datetime; results are UTC.
  Calendar logic happens in the calendar's local time zone (``zoneinfo``).
* Nothing here reads the system clock; time is always passed in.
* Per-day windows are computed lazily and cached on the ``WorkCalendar``; arithmetic walks
  day by day (whole days in O(1)), never minute by minute.

The calendar table (``CalendarDay``) is seeded from the ``chinese_calendar`` package for the years it
covers and from ``holidays`` (CN) beyond that; admins edit single days with ``set_day``
(source ``"admin"``), and re-seeding never overwrites those edits.

None of the functions here commit; the caller owns the transaction.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time as time_module
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from engine.model import UNITS
from engine.models import CalendarDay, Counter

DEFAULT_WINDOWS = "08:30-12:00,13:30-17:30"
DEFAULT_TZ = "Asia/Shanghai"

SOURCE_CHINESE_CALENDAR = "chinese_calendar"
SOURCE_HOLIDAYS = "holidays"
SOURCE_ADMIN = "admin"

#: Name of the ``Counter`` row bumped by every write through this module (see ``get_calendar``).
VERSION_COUNTER = "calendar_version"

# A calendar with this many consecutive days without any work window is treated as broken
# rather than searched forever.
_MAX_IDLE_DAYS = 3660

Window = tuple[time, time]
UtcWindow = tuple[datetime, datetime]

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


# --------------------------------------------------------------------------------------------
# Windows


def _parse_hhmm(text: str, whole: str) -> time:
    m = _HHMM.match(text)
    if not m:
        raise ValueError(f"bad time {text.strip()!r} in work windows {whole!r}: use HH:MM, e.g. 08:30")
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"bad time {text.strip()!r} in work windows {whole!r}: hours 00-23, minutes 00-59")
    return time(hour, minute)


def _check_windows(windows: list[Window], whole: str) -> list[Window]:
    for start, end in windows:
        if start >= end:
            raise ValueError(
                f"work window {start:%H:%M}-{end:%H:%M} in {whole!r} ends before it starts"
                " (windows cannot cross midnight)"
            )
    windows = sorted(windows)
    for (s1, e1), (s2, e2) in zip(windows, windows[1:], strict=False):
        if s2 < e1:
            raise ValueError(f"work windows {s1:%H:%M}-{e1:%H:%M} and {s2:%H:%M}-{e2:%H:%M} in {whole!r} overlap")
    return windows


def parse_windows(text: str) -> list[Window]:
    """Parse ``"08:30-12:00,13:30-17:30"`` into sorted, non-overlapping ``(start, end)`` local times.

    Raises ``ValueError`` saying what is wrong for empty text, bad times, empty or overlapping windows.
    """
    if not isinstance(text, str):
        raise ValueError(f"work windows must be a string like '08:30-12:00,13:30-17:30', not {text!r}")
    if not text.strip():
        raise ValueError("work windows are empty: give at least one window like '08:30-12:00'")
    windows: list[Window] = []
    for part in text.split(","):
        if not part.strip():
            raise ValueError(f"empty work window in {text!r}: separate windows with single commas")
        pieces = part.split("-")
        if len(pieces) != 2:
            raise ValueError(f"bad work window {part.strip()!r} in {text!r}: use HH:MM-HH:MM, e.g. 08:30-12:00")
        windows.append((_parse_hhmm(pieces[0], text), _parse_hhmm(pieces[1], text)))
    return _check_windows(windows, text)


def format_windows(windows: Sequence[Window]) -> str:
    """The inverse of ``parse_windows``: ``"08:30-12:00,13:30-17:30"``."""
    return ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in windows)


def windows_to_json(windows: Sequence[Window]) -> str:
    """The ``CalendarDay.windows`` column format: ``[["08:30","12:00"],["13:30","17:30"]]``."""
    return json.dumps([[f"{s:%H:%M}", f"{e:%H:%M}"] for s, e in windows])


def windows_from_json(text: str | None) -> list[Window]:
    """Read the ``CalendarDay.windows`` column; ``""``/``None``/``"[]"`` give ``[]``."""
    if not text:
        return []
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"calendar windows {text!r} are not JSON: {exc}") from None
    if not isinstance(raw, list):
        raise ValueError(f"calendar windows {text!r} must be a JSON list of [start, end] pairs")
    return _coerce_windows(raw)


def _coerce_windows(value: Any) -> list[Window]:
    """Accept a windows string, ``[(time, time), …]`` or JSON-style ``[["08:30", "12:00"], …]``."""
    if value is None:
        return []
    if isinstance(value, str):
        return parse_windows(value) if value.strip() else []
    windows: list[Window] = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError(f"bad work window {item!r}: expected a [start, end] pair")
        start, end = (_parse_hhmm(x, str(value)) if isinstance(x, str) else x for x in item)
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"bad work window {item!r}: expected times or 'HH:MM' strings")
        windows.append((start.replace(tzinfo=None), end.replace(tzinfo=None)))
    return _check_windows(windows, str(value))


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {tz!r}: use an IANA name such as 'Asia/Shanghai'") from None


def _aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(UTC)


def _check_amount(amount: float, unit: str) -> float:
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}: use one of {', '.join(UNITS)}")
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise ValueError(f"amount must be a number, not {amount!r}")
    amount = float(amount)
    if math.isnan(amount) or math.isinf(amount):
        raise ValueError(f"amount must be a finite number, not {amount}")
    if amount < 0:
        raise ValueError(f"amount must be zero or positive, not {amount:g}")
    return amount


# --------------------------------------------------------------------------------------------
# The calendar


@dataclass(frozen=True)
class _Day:
    windows: tuple[UtcWindow, ...]
    total: timedelta


class WorkCalendar:
    """Working days and work windows, with working-time arithmetic.

    ``days`` maps a local date to ``(is_working, windows)``; windows may be ``[(time, time), …]``,
    ``[["08:30", "12:00"], …]`` or a ``"08:30-12:00,…"`` string. A working day with no windows uses
    the default windows. Days not in the mapping follow the default schedule: Monday–Friday are
    working days with ``default_windows``, Saturday and Sunday are off.
    """

    def __init__(
        self,
        days: Mapping[date, tuple[bool, Any]] | None = None,
        default_windows: str | Sequence[Window] = DEFAULT_WINDOWS,
        tz: str = DEFAULT_TZ,
    ) -> None:
        self.tz_name = tz
        self.tz = _zone(tz)
        self.default_windows: tuple[Window, ...] = tuple(_coerce_windows(default_windows))
        if not self.default_windows:
            raise ValueError("default work windows are empty: give at least one window like '08:30-12:00'")
        self._days: dict[date, tuple[bool, tuple[Window, ...]]] = {}
        for day, (is_working, windows) in (days or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"calendar keys must be dates, not {day!r}")
            wins = tuple(_coerce_windows(windows)) if is_working else ()
            self._days[day] = (bool(is_working), wins or (self.default_windows if is_working else ()))
        self._cache: dict[date, _Day] = {}
        self._prefix: tuple[int, list[float]] = (0, [])
        self.standard_day = sum(
            (datetime.combine(date.min, e) - datetime.combine(date.min, s) for s, e in self.default_windows),
            timedelta(),
        )

    # -- days ---------------------------------------------------------------------------------

    @property
    def standard_day_minutes(self) -> float:
        """Working minutes of a standard working day (the default windows); the size of one workday."""
        return self.standard_day.total_seconds() / 60

    def _schedule(self, d: date) -> tuple[bool, tuple[Window, ...]]:
        entry = self._days.get(d)
        if entry is not None:
            return entry
        if d.weekday() < 5:
            return True, self.default_windows
        return False, ()

    def _day(self, d: date) -> _Day:
        cached = self._cache.get(d)
        if cached is None:
            _working, local = self._schedule(d)
            utc = tuple(
                (
                    datetime.combine(d, s, tzinfo=self.tz).astimezone(UTC),
                    datetime.combine(d, e, tzinfo=self.tz).astimezone(UTC),
                )
                for s, e in local
            )
            cached = _Day(utc, sum((e - s for s, e in utc), timedelta()))
            self._cache[d] = cached
        return cached

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime):
            raise ValueError("is_working_day takes a local date, not a datetime")
        return self._schedule(d)[0]

    def windows(self, d: date) -> list[UtcWindow]:
        """The work windows of local day ``d`` as aware UTC ``(start, end)`` pairs (``[]`` on days off)."""
        if isinstance(d, datetime):
            raise ValueError("windows takes a local date, not a datetime")
        return list(self._day(d).windows)

    def local_date(self, instant: datetime) -> date:
        return _aware(instant, "instant").astimezone(self.tz).date()

    def is_working_time(self, instant: datetime) -> bool:
        """True when ``instant`` lies inside a work window (start inclusive, end exclusive)."""
        t = _aware(instant, "instant")
        return any(s <= t < e for s, e in self._day(self.local_date(t)).windows)

    def next_working_instant(self, instant: datetime) -> datetime:
        """``instant`` itself when it lies in a work window (ends included), else the next window start."""
        t = _aware(instant, "instant")
        d = t.astimezone(self.tz).date()
        for _ in range(_MAX_IDLE_DAYS):
            for s, e in self._day(d).windows:
                if t <= e:
                    return max(s, t)
            d += timedelta(days=1)
        raise ValueError(f"no working time within {_MAX_IDLE_DAYS} days after {t.isoformat()}: check the calendar")

    # -- arithmetic ---------------------------------------------------------------------------

    def _walk(self, cursor: datetime, remaining: timedelta) -> datetime:
        """Move forward from ``cursor`` through ``remaining`` working time."""
        if remaining <= timedelta():
            return self.next_working_instant(cursor)
        d = cursor.astimezone(self.tz).date()
        idle = 0
        while True:
            day = self._day(d)
            if day.windows:
                idle = 0
                if cursor <= day.windows[0][0] and remaining > day.total:
                    remaining -= day.total  # the whole day fits: skip it in one step
                else:
                    for s, e in day.windows:
                        if e <= cursor:
                            continue
                        begin = max(s, cursor)
                        available = e - begin
                        if remaining <= available:
                            return begin + remaining
                        remaining -= available
            else:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise ValueError(f"no working time within {_MAX_IDLE_DAYS} days after {d}: check the calendar")
            d = _next_day(d)

    def add_working_time(self, start: datetime, amount: float, unit: str) -> datetime:
        """The instant ``amount`` units of working time after ``start`` (aware; result in UTC).

        * ``minute`` / ``workhour``: walk through the work windows; a start outside working time
          first moves to the next window start. An end exactly at a window's end stays there.
        * ``workday``: the same local time of day on the Nth following working day (a start outside
          working time first moves to the next window start; when the target day's windows do not
          contain that time of day it is clamped to the end of that day's last window). A fraction
          of a workday is that fraction of a standard working day (``standard_day_minutes``) walked
          through the windows after the whole days.

        Raises ``ValueError`` for naive datetimes, unknown units, negative, NaN or infinite amounts.
        """
        amount = _check_amount(amount, unit)
        cursor = _aware(start, "start")
        try:
            if unit == "minute":
                return self._walk(cursor, timedelta(minutes=amount))
            if unit == "workhour":
                return self._walk(cursor, timedelta(hours=amount))
            whole = math.floor(amount)
            fraction = amount - whole
            cursor = self.next_working_instant(cursor)
            if whole:
                local = cursor.astimezone(self.tz)
                time_of_day = local.time().replace(tzinfo=None)
                d = local.date()
                counted = idle = 0
                while counted < whole:
                    d = _next_day(d)
                    if self._day(d).windows:
                        counted += 1
                        idle = 0
                    else:
                        idle += 1
                        if idle > _MAX_IDLE_DAYS:
                            raise ValueError(
                                f"no working day within {_MAX_IDLE_DAYS} days after {d}: check the calendar"
                            )
                target = datetime.combine(d, time_of_day, tzinfo=self.tz).astimezone(UTC)
                windows = self._day(d).windows
                if not any(s <= target <= e for s, e in windows):
                    target = windows[-1][1]
                cursor = target
            if fraction > 0:
                cursor = self._walk(cursor, self.standard_day * fraction)
            return cursor
        except OverflowError:
            raise ValueError(f"{amount:g} {unit} after {start.isoformat()} is beyond the supported dates") from None

    def _working(self, a: datetime, b: datetime) -> timedelta:
        """Working time inside [a, b] for UTC instants a <= b (whole days between come from prefix sums)."""
        first = a.astimezone(self.tz).date()
        last = b.astimezone(self.tz).date()
        total = self._overlap(first, a, b)
        if last != first:
            total += self._overlap(last, a, b) + self._sum_days(_next_day(first), last)
        return total

    def _overlap(self, d: date, a: datetime, b: datetime) -> timedelta:
        total = timedelta()
        for s, e in self._day(d).windows:
            lo, hi = max(s, a), min(e, b)
            if hi > lo:
                total += hi - lo
        return total

    def _sum_days(self, lo: date, hi: date) -> timedelta:
        """Working time of the whole days lo <= d < hi, in constant time from cumulative sums."""
        if hi <= lo:
            return timedelta()
        base, prefix = self._prefix
        if lo.toordinal() < base or hi.toordinal() - base >= len(prefix):
            start = min(lo.toordinal(), base if prefix else lo.toordinal()) - 366
            end = max(hi.toordinal(), base + len(prefix) - 1 if prefix else hi.toordinal()) + 366
            cumulative = [0.0]
            for ordinal in range(start, end):
                cumulative.append(cumulative[-1] + self._day(date.fromordinal(ordinal)).total.total_seconds())
            base, prefix = self._prefix = (start, cumulative)  # one assignment: safe for readers
        return timedelta(seconds=prefix[hi.toordinal() - base] - prefix[lo.toordinal() - base])

    def working_time_between(
        self,
        a: datetime,
        b: datetime,
        unit: str = "minute",
        exclude: Sequence[tuple[datetime, datetime | None]] = (),
    ) -> float:
        """Working time from ``a`` to ``b`` in ``unit``, not counting the periods in ``exclude``.

        ``exclude`` holds suspension periods (挂账) ``(start, end)``; ``end=None`` means still open and
        ends at ``b``. Overlapping periods are counted once. ``workhour`` = minutes / 60, ``workday`` =
        minutes / ``standard_day_minutes``. When ``b < a`` the result is minus the time from ``b`` to ``a``.
        """
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}: use one of {', '.join(UNITS)}")
        a = _aware(a, "a")
        b = _aware(b, "b")
        periods: list[tuple[datetime, datetime]] = []
        for i, item in enumerate(exclude):
            try:
                s, e = item
            except (TypeError, ValueError):
                raise ValueError(f"exclude[{i}] must be a (start, end) pair, not {item!r}") from None
            s = _aware(s, f"exclude[{i}] start")
            e = b if e is None else _aware(e, f"exclude[{i}] end")
            periods.append((s, e))
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        total = self._working(a, b)
        merged: list[list[datetime]] = []
        for s, e in sorted((max(s, a), min(e, b)) for s, e in periods):
            if e <= s:
                continue
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        for s, e in merged:
            total -= self._working(s, e)
        minutes = total.total_seconds() / 60
        if unit == "workhour":
            minutes /= 60
        elif unit == "workday":
            minutes /= self.standard_day_minutes
        return sign * minutes

    # -- loading ------------------------------------------------------------------------------

    @classmethod
    def load(cls, session: Session, tz: str, default_windows: str) -> WorkCalendar:
        """A calendar from every ``CalendarDay`` row (days without a row follow the default schedule)."""
        days: dict[date, tuple[bool, list[Window]]] = {}
        for row in session.execute(select(CalendarDay.day, CalendarDay.is_working, CalendarDay.windows)):
            try:
                days[row.day] = (bool(row.is_working), windows_from_json(row.windows) if row.is_working else [])
            except ValueError as exc:
                raise ValueError(f"calendar day {row.day}: {exc}") from None
        return cls(days, default_windows, tz)


def _next_day(d: date) -> date:
    return d + timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Cache
#
# Choice: one cached calendar per (database URL, tz, default windows), validated on every call by
# the ``calendar_version`` counter row that ``seed_calendar`` and ``set_day`` bump in the caller's
# transaction — a single primary-key read, because every engine command asks for the calendar.
# The counter is shared by every process using the database. Raw SQL that changes the calendar
# table without bumping the counter needs ``invalidate_calendar_cache()`` (or a restart).

_CACHE: dict[tuple[str, str, str], tuple[tuple, WorkCalendar, float]] = {}
_CACHE_LOCK = threading.Lock()


def _fingerprint(session: Session) -> tuple:
    version = session.execute(_VERSION_SQL, {"name": VERSION_COUNTER}).scalar()
    return (version,)


_VERSION_SQL = text("SELECT value FROM counter WHERE name = :name")


def get_calendar(session: Session, tz: str, default_windows: str, max_age: float = 0.0) -> WorkCalendar:
    """The calendar for this database, reloaded only when the table changed (see the note above).

    ``max_age``: seconds during which a cached calendar is used without asking the database
    (engine commands pass 1 s: an admin's edit reaches running processes within a second)."""
    key = (str(session.get_bind().url), tz, default_windows)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    now = time_module.monotonic()
    if hit is not None and max_age > 0 and now - hit[2] < max_age:
        return hit[1]
    fingerprint = _fingerprint(session)
    if hit is not None and hit[0] == fingerprint:
        with _CACHE_LOCK:
            _CACHE[key] = (fingerprint, hit[1], now)
        return hit[1]
    calendar = WorkCalendar.load(session, tz, default_windows)
    with _CACHE_LOCK:
        _CACHE[key] = (fingerprint, calendar, now)
    return calendar


def invalidate_calendar_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def _bump_version(session: Session) -> None:
    result = session.execute(
        update(Counter).where(Counter.name == VERSION_COUNTER).values(value=Counter.value + 1)
    )
    if result.rowcount == 0:
        session.add(Counter(name=VERSION_COUNTER, value=1))
        session.flush()


# --------------------------------------------------------------------------------------------
# Seeding and admin edits


@dataclass(frozen=True)
class PlannedDay:
    day: date
    is_working: bool
    note: str
    source: str


def source_for_year(year: int) -> str:
    """``"chinese_calendar"`` when that package covers ``year``, else ``"holidays"``."""
    import chinese_calendar

    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        chinese_calendar.is_workday(date(year, 12, 31))
    except NotImplementedError:
        return SOURCE_HOLIDAYS
    return SOURCE_CHINESE_CALENDAR


def _year_days(year: int) -> Iterable[date]:
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


def _chinese_name(english: str | None) -> str:
    if not english:
        return ""
    try:
        from chinese_calendar.constants import Holiday

        return Holiday(english).chinese
    except (ImportError, ValueError, AttributeError):
        return english


def plan_year(year: int) -> list[PlannedDay]:
    """What seeding would write for ``year``: one entry per day, from the best package available."""
    if source_for_year(year) == SOURCE_CHINESE_CALENDAR:
        import chinese_calendar

        planned = []
        for d in _year_days(year):
            working = chinese_calendar.is_workday(d)
            _is_holiday, name = chinese_calendar.get_holiday_detail(d)
            if working and d.weekday() >= 5:
                note = f"{_chinese_name(name)}调休上班" if name else "调休上班"
            elif not working and name:
                note = _chinese_name(name)
            else:
                note = ""
            planned.append(PlannedDay(d, working, note[:100], SOURCE_CHINESE_CALENDAR))
        return planned

    import holidays

    try:
        cn = holidays.country_holidays("CN", years=year, language="zh_CN")
    except (NotImplementedError, ValueError, TypeError):
        cn = holidays.country_holidays("CN", years=year)
    make_up = {d for d in getattr(cn, "weekend_workdays", ()) if d.year == year}
    planned = []
    for d in _year_days(year):
        if d in make_up:
            planned.append(PlannedDay(d, True, "调休上班", SOURCE_HOLIDAYS))
        elif d in cn:
            planned.append(PlannedDay(d, False, str(cn.get(d))[:100], SOURCE_HOLIDAYS))
        else:
            planned.append(PlannedDay(d, d.weekday() < 5, "", SOURCE_HOLIDAYS))
    return planned


def seed_calendar(session: Session, years: Iterable[int], default_windows: str, tz: str) -> int:
    """Write one ``CalendarDay`` per day of ``years``; returns the number of rows written.

    Years covered by ``chinese_calendar`` use it (holiday names, 调休 make-up weekend working days);
    later years fall back to ``holidays`` CN plus weekends with ``source="holidays"`` — its knowledge
    of future 调休 is incomplete, so admins should check those years. Working days get
    ``default_windows``. Idempotent: rows with ``source="admin"`` are kept, all others replaced.
    ``tz`` is validated only (days are local dates). Does not commit.
    """
    windows_json = windows_to_json(parse_windows(default_windows))
    _zone(tz)
    years = sorted(set(years))
    for year in years:
        if not isinstance(year, int) or not 1 <= year <= 9998:
            raise ValueError(f"bad year {year!r}: give a year such as 2026")
    written = 0
    for year in years:
        existing = {
            row.day: row
            for row in session.scalars(
                select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            )
        }
        for p in plan_year(year):
            row = existing.get(p.day)
            if row is not None and row.source == SOURCE_ADMIN:
                continue
            if row is None:
                row = CalendarDay(day=p.day)
                session.add(row)
            row.is_working = p.is_working
            row.windows = windows_json if p.is_working else "[]"
            row.note = p.note
            row.source = p.source
            written += 1
    if written:
        session.flush()
        _bump_version(session)
    return written


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
    wins = _coerce_windows(windows)
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
    _bump_version(session)
    return row

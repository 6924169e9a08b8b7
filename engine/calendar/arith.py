"""Working-time arithmetic: which instants are working time, and adding or measuring working time.

Deadlines in 数字城管 are counted in working time (DOMAIN.md §4): "N 工作时" is N hours inside the work
windows, "N 工作日" is N working days of the calendar's schedule (not N × 24 h), and time spent
suspended (挂账) does not count.

* Every instant that goes in or comes out is a timezone-aware datetime; results are UTC.
  Calendar logic happens in the calendar's local time zone (``zoneinfo``).
* Nothing here reads the system clock or the database; time and days are passed in
  (engine/calendar/store.py builds a calendar from the table).
* Per-day windows are computed lazily and cached on the ``WorkCalendar``; arithmetic walks
  day by day (whole days in O(1)), never minute by minute.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from engine.calendar.windows import DEFAULT_TZ, DEFAULT_WINDOWS, Window, coerce_windows, zone
from engine.model import UNITS

# A calendar with this many consecutive days without any work window is treated as broken
# rather than searched forever.
_MAX_IDLE_DAYS = 3660

UtcWindow = tuple[datetime, datetime]


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
        self.tz = zone(tz)
        self.default_windows: tuple[Window, ...] = tuple(coerce_windows(default_windows))
        if not self.default_windows:
            raise ValueError("default work windows are empty: give at least one window like '08:30-12:00'")
        self._days: dict[date, tuple[bool, tuple[Window, ...]]] = {}
        for day, (is_working, windows) in (days or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"calendar keys must be dates, not {day!r}")
            wins = tuple(coerce_windows(windows)) if is_working else ()
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


def _next_day(d: date) -> date:
    return d + timedelta(days=1)

"""Evaluation periods in the city's local time: a month, a quarter or any range of days, and the
periods they are compared with (环比: the one just before, 同比: the same one a year earlier)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.errors import ValidationError
from engine.evaluation.compute import Period

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


def _instant(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    n = day.year * 12 + day.month - 1 + months
    return date(n // 12, n % 12 + 1, 1)


def days_period(first: date, last: date, tz: str, label: str | None = None) -> Period:
    """From the start of ``first`` to the end of ``last`` (both local days, inclusive)."""
    if last < first:
        raise ValidationError("the period ends before it starts", {"to": "before from"})
    return Period(_instant(first, tz), _instant(last + timedelta(days=1), tz),
                  label or f"{first.isoformat()}~{last.isoformat()}")


def month_period(year: int, month: int, tz: str) -> Period:
    first = date(year, month, 1)
    return days_period(first, _add_months(first, 1) - timedelta(days=1), tz, f"{year:04d}-{month:02d}")


def quarter_period(year: int, quarter: int, tz: str) -> Period:
    first = date(year, 3 * quarter - 2, 1)
    return days_period(first, _add_months(first, 3) - timedelta(days=1), tz, f"{year:04d}Q{quarter}")


def parse_period(text: str, tz: str) -> Period:
    """``2026-10`` (a month) or ``2026Q3`` (a quarter)."""
    if m := _MONTH.match(text.strip()):
        year, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12:
            return month_period(year, month, tz)
    if m := _QUARTER.match(text.strip()):
        return quarter_period(int(m.group(1)), int(m.group(2)), tz)
    raise ValidationError(f"not a month (YYYY-MM) or quarter (YYYYQn): {text!r}", {"period": "invalid"})


def parse_day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{name} is not a date (YYYY-MM-DD): {text!r}", {name: "invalid date"}) from None


def _local_days(period: Period, tz: str) -> tuple[date, date]:
    zone = ZoneInfo(tz)
    return period.start.astimezone(zone).date(), (period.end.astimezone(zone) - timedelta(days=1)).date()


def previous_period(period: Period, tz: str) -> Period:
    """环比: the period of the same shape just before (previous month / quarter / as many days)."""
    first, last = _local_days(period, tz)
    if _MONTH.match(period.label):
        prev = _add_months(first, -1)
        return month_period(prev.year, prev.month, tz)
    if _QUARTER.match(period.label):
        prev = _add_months(first, -3)
        return quarter_period(prev.year, (prev.month - 1) // 3 + 1, tz)
    length = (last - first).days + 1
    return days_period(first - timedelta(days=length), first - timedelta(days=1), tz)


def year_before(period: Period, tz: str) -> Period:
    """同比: the same period one year earlier."""
    first, last = _local_days(period, tz)
    if _MONTH.match(period.label):
        return month_period(first.year - 1, first.month, tz)
    if _QUARTER.match(period.label):
        return quarter_period(first.year - 1, (first.month - 1) // 3 + 1, tz)

    def back(d: date) -> date:
        return d.replace(year=d.year - 1) if not (d.month == 2 and d.day == 29) else d.replace(year=d.year - 1, day=28)

    return days_period(back(first), back(last), tz)


def month_of(instant: datetime, tz: str) -> Period:
    local = instant.astimezone(ZoneInfo(tz))
    return month_period(local.year, local.month, tz)


__all__ = ["days_period", "month_of", "month_period", "parse_day", "parse_period", "previous_period",
           "quarter_period", "year_before"]

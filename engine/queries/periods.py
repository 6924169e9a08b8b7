"""Periods the pages filter by: local calendar days turned into UTC instants."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_days(first: date | None, last: date | None, timezone: str) -> tuple[datetime | None, datetime | None]:
    """``[start of first, start of the day after last)`` in ``timezone``; None where a bound is open."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(first, time(0, 0), tzinfo=tz) if first is not None else None
    end = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=tz) if last is not None else None
    return start, end


__all__ = ["local_days"]

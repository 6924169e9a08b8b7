"""Natural (clock) time: the calendar of emergencies, counted around the clock (24/7).

A road collapse reported on Friday at 20:00 is due within its minutes, not on Monday morning
(issue 15). ``NaturalCalendar`` has the same two operations as ``WorkCalendar`` so that
``engine.deadlines`` can count any limit on either; every instant counts, so a "workhour" is a
clock hour and a "workday" 24 hours. ``time_limits.dmn`` says which calendar each limit uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from engine.calendar.arith import _aware, _check_amount
from engine.model import UNITS

_UNIT_MINUTES = {"minute": 1.0, "workhour": 60.0, "workday": 24 * 60.0}


class NaturalCalendar:
    """Clock-time arithmetic with WorkCalendar's interface (no database, no clock)."""

    def add_working_time(self, start: datetime, amount: float, unit: str) -> datetime:
        amount = _check_amount(amount, unit)
        return _aware(start, "start") + timedelta(minutes=amount * _UNIT_MINUTES[unit])

    def working_time_between(self, a: datetime, b: datetime, unit: str = "minute",
                             exclude: Sequence[tuple[datetime, datetime | None]] = ()) -> float:
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}: use one of {', '.join(UNITS)}")
        a, b = _aware(a, "a"), _aware(b, "b")
        minutes = (b - a).total_seconds() / 60
        for s, e in _merged(exclude, b):
            lo, hi = max(s, min(a, b)), min(e, max(a, b))
            if hi > lo:
                minutes -= (hi - lo).total_seconds() / 60 * (1 if b >= a else -1)
        return minutes / _UNIT_MINUTES[unit]


def _merged(periods: Sequence[tuple[datetime, datetime | None]], end: datetime) -> list[tuple[datetime, datetime]]:
    """Suspension periods as disjoint (start, end) UTC pairs, an open one ending at ``end``."""
    spans = sorted((_aware(s, "exclude start"), end if e is None else _aware(e, "exclude end")) for s, e in periods)
    out: list[tuple[datetime, datetime]] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


NATURAL = NaturalCalendar()

__all__ = ["NATURAL", "NaturalCalendar"]

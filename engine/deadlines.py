"""Deadlines of a step, as plain JSON the BPMN timers read.

A deadline is {"start", "due_at", "warn_at", "total_minutes", "elapsed_before",
"suspended_at", "remaining_minutes"} with ISO UTC instants, plus {"calendar": "natural"} when
the step is counted around the clock (time_limits.dmn's ``calendar`` column; emergencies) —
absent means working time, so deadlines of ordinary cases look exactly as before. The warning
falls when 80 % of the step's time has elapsed; suspended time (挂账) does not count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from engine.calendar import WorkCalendar
from engine.calendar.natural import NATURAL
from engine.clock import Clock
from engine.model import LimitCalendar

WARN_FRACTION = 0.8


class Arithmetic(Protocol):
    def add_working_time(self, start: datetime, amount: float, unit: str) -> datetime: ...

    def working_time_between(self, a: datetime, b: datetime) -> float: ...


def iso(instant: datetime) -> str:
    return instant.isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def limit_calendar(value: Any) -> LimitCalendar:
    """The calendar a table cell or a stored deadline names; working time unless it says natural."""
    return LimitCalendar.NATURAL if value == LimitCalendar.NATURAL else LimitCalendar.WORKING


class Deadlines:
    def __init__(self, calendar: WorkCalendar, clock: Clock) -> None:
        self.calendar = calendar
        self.clock = clock

    def _arith(self, which: Any) -> Arithmetic:
        return NATURAL if limit_calendar(which) is LimitCalendar.NATURAL else self.calendar

    def _warn_at(self, arith: Arithmetic, start: datetime, total: float, elapsed_before: float) -> datetime:
        return arith.add_working_time(start, max(0.0, WARN_FRACTION * total - elapsed_before), "minute")

    def start(self, limit: float, unit: str, calendar: Any = None) -> dict[str, Any]:
        arith = self._arith(calendar)
        now = self.clock.now()
        due = arith.add_working_time(now, float(limit), unit)
        total = arith.working_time_between(now, due)
        deadline = {"start": iso(now), "due_at": iso(due), "warn_at": iso(self._warn_at(arith, now, total, 0.0)),
                    "total_minutes": total, "elapsed_before": 0.0, "suspended_at": None, "remaining_minutes": None}
        if arith is NATURAL:
            deadline["calendar"] = LimitCalendar.NATURAL.value
        return deadline

    def extend(self, deadline: dict[str, Any], amount: float, unit: str) -> dict[str, Any]:
        arith = self._arith(deadline.get("calendar"))
        old_due = parse(deadline["due_at"])
        due = arith.add_working_time(old_due, float(amount), unit)
        total = deadline["total_minutes"] + arith.working_time_between(old_due, due)
        start = parse(deadline["start"])
        return {**deadline, "due_at": iso(due), "total_minutes": total,
                "warn_at": iso(self._warn_at(arith, start, total, deadline["elapsed_before"]))}

    def suspend(self, deadline: dict[str, Any]) -> dict[str, Any]:
        arith = self._arith(deadline.get("calendar"))
        now = self.clock.now()
        remaining = max(0.0, arith.working_time_between(now, parse(deadline["due_at"])))
        return {**deadline, "suspended_at": iso(now), "remaining_minutes": remaining}

    def resume(self, deadline: dict[str, Any]) -> dict[str, Any]:
        arith = self._arith(deadline.get("calendar"))
        now = self.clock.now()
        remaining = float(deadline.get("remaining_minutes") or 0.0)
        elapsed = deadline["total_minutes"] - remaining
        due = arith.add_working_time(now, remaining, "minute")
        return {**deadline, "start": iso(now), "due_at": iso(due), "elapsed_before": elapsed,
                "warn_at": iso(self._warn_at(arith, now, deadline["total_minutes"], elapsed)),
                "suspended_at": None, "remaining_minutes": None}

    def step(self, hours: float, calendar: Any = None) -> tuple[datetime, datetime]:
        """(warn_at, due_at) of a step limited to ``hours`` hours from now (working hours unless
        ``calendar`` is natural)."""
        d = self.start(hours, "workhour", calendar)
        return parse(d["warn_at"]), parse(d["due_at"])

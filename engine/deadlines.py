"""Working-time deadlines of a step, as plain JSON the BPMN timers read.

A deadline is {"start", "due_at", "warn_at", "total_minutes", "elapsed_before",
"suspended_at", "remaining_minutes"} with ISO UTC instants. The warning falls when 80 % of the
step's working time has elapsed; suspended time (挂账) does not count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.calendar import WorkCalendar
from engine.clock import Clock

WARN_FRACTION = 0.8


def iso(instant: datetime) -> str:
    return instant.isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Deadlines:
    def __init__(self, calendar: WorkCalendar, clock: Clock) -> None:
        self.calendar = calendar
        self.clock = clock

    def _warn_at(self, start: datetime, total: float, elapsed_before: float) -> datetime:
        return self.calendar.add_working_time(start, max(0.0, WARN_FRACTION * total - elapsed_before), "minute")

    def start(self, limit: float, unit: str) -> dict[str, Any]:
        now = self.clock.now()
        due = self.calendar.add_working_time(now, float(limit), unit)
        total = self.calendar.working_time_between(now, due)
        return {"start": iso(now), "due_at": iso(due), "warn_at": iso(self._warn_at(now, total, 0.0)),
                "total_minutes": total, "elapsed_before": 0.0, "suspended_at": None, "remaining_minutes": None}

    def extend(self, deadline: dict[str, Any], amount: float, unit: str) -> dict[str, Any]:
        old_due = parse(deadline["due_at"])
        due = self.calendar.add_working_time(old_due, float(amount), unit)
        total = deadline["total_minutes"] + self.calendar.working_time_between(old_due, due)
        start = parse(deadline["start"])
        return {**deadline, "due_at": iso(due), "total_minutes": total,
                "warn_at": iso(self._warn_at(start, total, deadline["elapsed_before"]))}

    def suspend(self, deadline: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        remaining = max(0.0, self.calendar.working_time_between(now, parse(deadline["due_at"])))
        return {**deadline, "suspended_at": iso(now), "remaining_minutes": remaining}

    def resume(self, deadline: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        remaining = float(deadline.get("remaining_minutes") or 0.0)
        elapsed = deadline["total_minutes"] - remaining
        due = self.calendar.add_working_time(now, remaining, "minute")
        return {**deadline, "start": iso(now), "due_at": iso(due), "elapsed_before": elapsed,
                "warn_at": iso(self._warn_at(now, deadline["total_minutes"], elapsed)),
                "suspended_at": None, "remaining_minutes": None}

    def step(self, hours: float) -> tuple[datetime, datetime]:
        """(warn_at, due_at) of a step limited to ``hours`` working hours from now."""
        d = self.start(hours, "workhour")
        return parse(d["warn_at"]), parse(d["due_at"])

"""The injected clock. Nothing in the engine reads the system time except ``SystemClock``.

Engine commands install their clock with ``using_clock`` for the duration of the command, so
SpiffWorkflow's own timer checks (patched in ``engine.spiff_patches``) read the same clock.
"""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime, timedelta
from typing import Protocol

from engine.scoped import scoped


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: tests, the simulator and replay use it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        self._now = self._now + delta
        return self._now


_SYSTEM = SystemClock()
_current: contextvars.ContextVar[Clock | None] = contextvars.ContextVar("citycase_clock", default=None)


def current_clock() -> Clock:
    return _current.get() or _SYSTEM


def using_clock(clock: Clock):
    return scoped(_current, clock)

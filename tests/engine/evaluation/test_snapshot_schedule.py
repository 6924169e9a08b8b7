"""The scheduler freezes last month on the first working day of the new month, once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from engine.clock import ManualClock
from engine.model import EngineContext
from engine.models import EvaluationSnapshot
from engine.scheduler import tick


def _months(db) -> list[str]:
    with db.factory() as s:
        return list(s.scalars(select(EvaluationSnapshot.month).order_by(EvaluationSnapshot.id)))


def test_frozen_on_the_first_working_day_only(city):
    # 2026-11-01 is a Sunday: not yet; Monday 2026-11-02 is the first working day.
    sunday = ManualClock(datetime(2026, 11, 1, 2, 0, tzinfo=UTC))
    assert tick(city.factory, EngineContext(sunday), snapshots=True)["snapshots"] == 0
    assert _months(city) == []
    monday = ManualClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    assert tick(city.factory, EngineContext(monday), snapshots=True)["snapshots"] == 1
    assert tick(city.factory, EngineContext(monday), snapshots=True)["snapshots"] == 0
    assert _months(city) == ["2026-10"]
    # Without the flag (tests, the simulator) nothing is frozen.
    december = ManualClock(datetime(2026, 12, 2, 1, 0, tzinfo=UTC))
    assert "snapshots" not in tick(city.factory, EngineContext(december))
    assert _months(city) == ["2026-10"]

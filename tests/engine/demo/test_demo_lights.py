"""The demo shows green, yellow and red handling tasks whatever hour or day it is started at:
the staged cases are placed by working time before the end (Simulator._stage), so a start on a
weekend or at night gives the same mix as one in working hours. The CLI run on the system clock
is in tests/cli/test_demo_cases.py."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.clock import ManualClock
from engine.demo.simulate import Simulator
from engine.model import EngineContext, Light
from engine.models import Case, TaskRow
from engine.queries import light

SHANGHAI = ZoneInfo("Asia/Shanghai")
PER_LIGHT = 4


def open_lights(session, at: datetime, spec_id: str | None = None) -> Counter[Light]:
    stmt = select(TaskRow.warn_at, TaskRow.due_at)
    if spec_id is not None:
        stmt = stmt.where(TaskRow.spec_id == spec_id)
    return Counter(light(w, d, at) for w, d in session.execute(stmt))


@pytest.mark.parametrize("local", [
    datetime(2026, 6, 8, 10, 0),    # Monday morning, working time
    datetime(2026, 6, 10, 17, 25),  # Wednesday, minutes before the day's last window ends
    datetime(2026, 6, 13, 11, 0),   # Saturday
    datetime(2026, 6, 16, 3, 0),    # Tuesday, at night
], ids=["monday-morning", "wednesday-evening", "saturday", "night"])
def test_every_light_has_a_share_at_any_start(sqlite_city, local):
    until = local.replace(tzinfo=SHANGHAI)
    clock = ManualClock(until - timedelta(days=45))
    summary = Simulator(sqlite_city.factory, EngineContext(clock), seed=7).run(
        days=46, cases_per_day=2, until=until, per_light=PER_LIGHT)
    assert clock.now() <= until
    with sqlite_city.session() as s:
        handling = open_lights(s, until, "handle")
        every = open_lights(s, until)
        first = s.scalar(select(Case.created_at).order_by(Case.created_at).limit(1))
    assert summary["cases"] > 60 and until - first.replace(tzinfo=SHANGHAI) > timedelta(days=40)
    for lamp in Light:
        assert handling[lamp] >= PER_LIGHT, (lamp, handling)
        assert every[lamp] >= 0.15 * sum(every.values()), (lamp, every)

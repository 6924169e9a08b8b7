"""The simulator: every branch of the manual taken, and the same seed gives the same city every time."""

from __future__ import annotations

import pytest

from engine.clock import ManualClock
from engine.demo.simulate import SCRIPTED, Simulator
from engine.model import EngineContext
from tests.conftest import START, _make


@pytest.fixture
def other_city(request, _templates, city):
    """A second fresh seeded database on the same backend as ``city``."""
    yield from _make(request, _templates, city.backend, True)


def _simulate(db) -> dict:
    return Simulator(db.factory, EngineContext(ManualClock(START)), seed=1).run(cases=30)


def test_two_simulations_in_one_process_give_the_same_city(city, other_city):
    # A simulation must leave nothing behind in the process that changes the next one: the
    # scripted plans are shared module state, and once were consumed by the first run.
    first = _simulate(city)
    second = _simulate(other_city)
    assert first["all_branches_taken"], first["missing_branches"]
    assert second == first


def test_a_shared_scripted_plan_cannot_be_consumed():
    with pytest.raises(AttributeError):
        SCRIPTED[6].handle = ()  # type: ignore[misc]


def test_days_stop_at_until_leaving_work_in_flight(city):
    """The demo ends at the present: nothing after ``until``, and cases still open at every stage."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from engine.models import Case, TaskRow

    clock = ManualClock(START)
    until = START + timedelta(days=2, hours=5)
    Simulator(city.factory, EngineContext(clock), seed=3).run(days=4, cases_per_day=8, until=until)
    assert clock.now() <= until
    with city.factory() as s:
        assert s.scalar(select(func.max(Case.created_at))) <= until
        assert s.scalar(select(func.count()).select_from(TaskRow)) > 0

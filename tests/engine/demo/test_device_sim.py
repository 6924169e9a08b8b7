"""The simulated devices: a gauge in a storm files one case that later alarms attach to and that
hears when the water is gone; the cases verify."""

from __future__ import annotations

from sqlalchemy import select

from engine.audit import verify_cases
from engine.demo.devices import simulate_devices
from engine.models import Case, Event
from tests.conftest import START


def test_a_storm_files_one_flooding_case_per_gauge_that_later_alarms_attach_to(city):
    run = simulate_devices(city.factory, START, hours=6, seed=3)
    assert run.devices == 8 and run.observations == 8 * 72
    with city.session() as s:
        flooded = s.scalars(select(Case).where(Case.class_code == "E0405")).all()
        assert len(flooded) == 1 and (flooded[0].urgency, flooded[0].source) == ("emergency", "sensor")
        kinds = list(s.scalars(select(Event.kind).where(Event.case_id == flooded[0].id).order_by(Event.seq)))
        assert kinds[0] == "start" and kinds.count("observation") >= 2  # attached alarms and back to normal
        assert verify_cases(s, [c.number for c in s.scalars(select(Case))]).ok
    assert run.outcomes["attached"] >= 1 and run.outcomes["back_to_normal"] == 1

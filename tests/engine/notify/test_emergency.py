"""Emergencies around the clock (issue 15): a road collapse reported at night is due within its
minutes, not on the next working morning, and the duty leader is alerted at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine import scheduler
from engine.audit import verify_all
from engine.model import EngineContext
from engine.models import TaskRow
from tests.engine.notify.helpers import add_user, notices_of
from tests.factories import CaseDriver, task_of
from tests.web import webkit

FRIDAY_NIGHT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # Friday 20:00 in Shanghai
MONDAY_MORNING = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # Monday 08:30, the next working time


def _night_case(city, clock, class_code: str) -> CaseDriver:
    clock.set(FRIDAY_NIGHT)
    driver = CaseDriver(city, EngineContext(clock))
    lon, lat = webkit.cell_in(city, "330191")
    driver.start(class_code=class_code, lon=lon, lat=lat, description="路面塌陷 road collapse")
    return driver


def test_a_road_collapse_at_night_is_due_within_minutes_and_alerts_the_duty_leader(city, clock):
    add_user(city, "duty_leader_330191", "leader", district="330191", on_duty=True)
    add_user(city, "duty_leader_330192", "leader", district="330192", on_duty=True)  # another sub-center
    add_user(city, "leader_off_duty", "leader", district="330191")
    driver = _night_case(city, clock, "E0401")
    with city.session() as s:
        verify = task_of(s, driver.case_id, "verify")
    assert verify.due_at == FRIDAY_NIGHT + timedelta(minutes=15)  # 0.25 h, natural time
    assert verify.warn_at == FRIDAY_NIGHT + timedelta(minutes=12)

    counts = scheduler.tick(city.factory, EngineContext(clock))  # the next tick, seconds later
    assert counts["delivered"] >= 1
    alert = notices_of(city, "duty_leader_330191")
    assert [(n.kind, n.case_number, n.emergency) for n in alert] == [("emergency", driver.case().number, True)]
    assert notices_of(city, "duty_leader_330192") == [] and notices_of(city, "leader_off_duty") == []

    for spec, data in (("verify", {"verdict": "confirmed"}), ("accept", {"decision": "file"}),
                       ("file", {"decision": "file"}), ("dispatch", {"department": "municipal"})):
        clock.advance(timedelta(minutes=5))
        driver.do(spec, data)
    with city.session() as s:
        handle = task_of(s, driver.case_id, "handle")
    assert handle.due_at == clock.now() + timedelta(minutes=120)  # 120 natural minutes, at night

    clock.set(handle.due_at + timedelta(seconds=1))  # still Friday night: the overdue timer fires
    scheduler.tick(city.factory, EngineContext(clock))
    with city.session() as s:
        assert s.scalar(select(TaskRow.spec_id).where(TaskRow.case_id == driver.case_id,
                                                      TaskRow.spec_id == "escalate")) == "escalate"
    overdue = [n for n in notices_of(city, "leader_municipal") if n.kind == "overdue"]
    assert len(overdue) == 1 and overdue[0].emergency  # emergencies' messages ignore quiet hours
    with city.session() as s:  # replay reproduces the case whose deadlines ran on natural time
        assert verify_all(s) == (1, [])


def test_an_ordinary_case_at_night_waits_for_the_working_morning(city, clock):
    add_user(city, "duty_leader_330191", "leader", district="330191", on_duty=True)
    driver = _night_case(city, clock, "E0102")
    with city.session() as s:
        verify = task_of(s, driver.case_id, "verify")
    assert verify.due_at > MONDAY_MORNING  # working time: nothing counts over the weekend
    scheduler.tick(city.factory, EngineContext(clock))
    assert notices_of(city, "duty_leader_330191") == []


def test_without_anyone_on_duty_the_city_leader_is_alerted(city, clock):
    driver = _night_case(city, clock, "E0403")  # gas pipe break: 60 minutes
    scheduler.tick(city.factory, EngineContext(clock))
    assert [n.kind for n in notices_of(city, "leader1")] == ["emergency"]
    assert driver.case().urgency  # the case exists and the alert named it

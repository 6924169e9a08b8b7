"""Devices silent past their rule's limit get one maintenance case for their owner."""

from __future__ import annotations

from datetime import timedelta

from engine.audit import verify_cases
from engine.clock import SystemClock
from engine.devices.intake import Outcome
from engine.devices.models import Device, DeviceKind, DeviceState
from engine.devices.registry import NewDevice, add_device
from engine.devices.silence import check_silent
from engine.model import EngineContext
from engine.models import Case
from tests.engine.devices.kit import register, send


def test_a_gauge_silent_for_over_an_hour_gets_one_maintenance_case(city, clock):
    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    register(city, clock, "BIN-1", DeviceKind.SMART_BIN, department="sanitation")  # silent after 4 h only
    send(city, clock, key, "WG-1", "water_gauge", value=5)
    clock.advance(timedelta(minutes=60))
    with city.session() as s:
        assert check_silent(s, EngineContext(clock)) == []  # exactly the limit is not yet silent
    clock.advance(timedelta(minutes=1))
    with city.session() as s:
        found = check_silent(s, EngineContext(clock))
    assert [(f.device_id, f.department_code) for f in found] == [("WG-1", "drainage")]
    with city.session() as s:
        case = s.get(Case, found[0].case_id)
        assert (case.class_code, case.source) == ("E0404", "sensor")
        assert "WG-1" in case.description and "drainage" in case.description
        assert s.get(Device, "WG-1").state == DeviceState.SILENT
        assert verify_cases(s, [case.number]).ok
    clock.advance(timedelta(hours=1))
    with city.session() as s:
        assert check_silent(s, EngineContext(clock)) == []  # already silent: no second case
    # Reporting again notes it on the maintenance case.
    back = send(city, clock, key, "WG-1", "water_gauge", value=5)
    assert (back.outcome, back.case_id) == (Outcome.BACK_TO_NORMAL, found[0].case_id)


def test_silence_on_the_system_clock(city):
    clock = SystemClock()
    lon, lat = city.city["center"]
    with city.session() as s:
        add_device(s, NewDevice("NOISE-1", DeviceKind.AIR_NOISE, "construction", lon, lat),
                   clock.now() - timedelta(hours=2))
        add_device(s, NewDevice("NOISE-2", DeviceKind.AIR_NOISE, "construction", lon, lat), clock.now())
    with city.session() as s:
        found = check_silent(s, EngineContext(clock))
    assert [f.device_id for f in found] == ["NOISE-1"]


def test_the_scheduler_tick_files_the_maintenance_case(city):
    """The running scheduler (its tick on the system clock) is what finds silent devices in production."""
    from engine import scheduler

    clock = SystemClock()
    lon, lat = city.city["center"]
    with city.session() as s:
        add_device(s, NewDevice("NOISE-9", DeviceKind.AIR_NOISE, "construction", lon, lat),
                   clock.now() - timedelta(hours=2))
    counts = scheduler.tick(city.factory, EngineContext(clock), devices=True)
    assert counts["silent"] == 1
    with city.session() as s:
        device = s.get(Device, "NOISE-9")
        assert device.state == DeviceState.SILENT and device.case_id is not None
        assert verify_cases(s, [s.get(Case, device.case_id).number]).ok
    assert scheduler.tick(city.factory, EngineContext(clock), devices=True)["silent"] == 0

"""Observations become cases by the DMN rules: threshold, persistence, dedup, back to normal."""

from __future__ import annotations

from datetime import timedelta

import orjson
from sqlalchemy import select

from engine.audit import verify_cases
from engine.commands import complete_task
from engine.devices.intake import Outcome
from engine.devices.models import Device, DeviceKind, DeviceState
from engine.model import Actor, EngineContext, Role
from engine.models import Case, Event, TaskRow
from tests.engine.devices.kit import case_count, event_kinds, readings, register, send

MIN = timedelta(minutes=1)


def test_a_reading_under_the_threshold_writes_only_the_devices_state(city, clock):
    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    before = case_count(city)
    result = send(city, clock, key, "WG-1", "water_gauge", value=12.5)
    assert result.outcome == Outcome.NORMAL and result.case_id is None
    with city.session() as s:
        device = s.get(Device, "WG-1")
        assert (device.state, device.last_value, device.last_seen) == (DeviceState.NORMAL, 12.5, clock.now())
    assert case_count(city) == before


def test_three_readings_over_within_30_minutes_file_one_case_with_the_rules_class_and_urgency(city, clock):
    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    results = readings(city, clock, key, "WG-1", [31, 35, 40], every=10 * MIN)
    assert [r.outcome for r in results] == [Outcome.PENDING, Outcome.PENDING, Outcome.CASE_STARTED]
    with city.session() as s:
        case = s.get(Case, results[-1].case_id)
        assert (case.class_code, case.urgency, case.source) == ("E0405", "emergency", "sensor")
        assert s.get(Device, "WG-1").state == DeviceState.ALARM
        assert verify_cases(s, [case.number]).ok


def test_readings_over_spread_beyond_the_window_do_not_alarm(city, clock):
    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    before = case_count(city)
    results = readings(city, clock, key, "WG-1", [31, 35, 40, 41], every=20 * MIN)
    # 0, 20 min: a run of two; at 40 min the first fell out of the window, so the run restarts.
    assert all(r.outcome == Outcome.PENDING for r in results[:3])
    assert case_count(city) == before
    with city.session() as s:
        assert s.get(Device, "WG-1").state == DeviceState.NORMAL


def test_a_normal_reading_breaks_the_run(city, clock):
    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    results = readings(city, clock, key, "WG-1", [31, 35, 10, 40], every=5 * MIN)
    assert [r.outcome for r in results] == [Outcome.PENDING, Outcome.PENDING, Outcome.NORMAL, Outcome.PENDING]


def test_further_alarms_and_a_second_gauge_nearby_attach_to_the_one_open_case(city, clock):
    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    other = register(city, clock, "WG-2", DeviceKind.WATER_GAUGE, offset_m=20)
    first = readings(city, clock, key, "WG-1", [31, 35, 40, 45], every=5 * MIN)
    case_id = first[2].case_id
    before = case_count(city)
    second = readings(city, clock, other, "WG-2", [50, 50, 50], every=5 * MIN)
    assert first[3].outcome == Outcome.ATTACHED and first[3].case_id == case_id
    assert second[2].outcome == Outcome.ATTACHED and second[2].case_id == case_id
    assert case_count(city) == before
    assert event_kinds(city, case_id).count("observation") == 2
    with city.session() as s:
        assert verify_cases(s, [s.get(Case, case_id).number]).ok


def test_a_gauge_far_away_files_its_own_case(city, clock):
    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    far = register(city, clock, "WG-9", DeviceKind.WATER_GAUGE, offset_m=400)
    a = readings(city, clock, key, "WG-1", [31, 35, 40], every=5 * MIN)[-1]
    b = readings(city, clock, far, "WG-9", [31, 35, 40], every=5 * MIN)[-1]
    assert a.outcome == b.outcome == Outcome.CASE_STARTED and a.case_id != b.case_id


def test_back_to_normal_gives_the_open_case_a_check_task_for_a_supervisor(city, clock):
    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    case_id = readings(city, clock, key, "WG-1", [31, 35, 40], every=5 * MIN)[-1].case_id
    before = event_kinds(city, case_id)
    result = send(city, clock, key, "WG-1", "water_gauge", value=3)
    assert (result.outcome, result.case_id, result.state) == (Outcome.BACK_TO_NORMAL, case_id, DeviceState.NORMAL)
    assert event_kinds(city, case_id) == before + ["message"]  # one command, one event
    with city.session() as s:
        last = s.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq.desc())).first()
        data = orjson.loads(last.data)
        assert (last.actor, data["message"], data["payload"]["device"], data["payload"]["was"]) == (
            "device:WG-1", "device_normal", "WG-1", "alarm")
        checks = s.scalars(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.spec_id == "Device_check")).all()
        assert [(t.role, t.name) for t in checks] == [("supervisor", "设备恢复核查")]
        case = s.get(Case, case_id)
        assert case.status == "open"  # nothing closes silently
        assert verify_cases(s, [case.number]).ok  # replay delivers the message and reproduces the task
    # Normal again: no second check.
    again = send(city, clock, key, "WG-1", "water_gauge", value=2)
    assert again.outcome == Outcome.NORMAL
    assert event_kinds(city, case_id).count("message") == 1


def test_the_device_check_task_is_completed_by_a_supervisor_and_the_case_still_verifies(city, clock):
    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    case_id = readings(city, clock, key, "WG-1", [31, 35, 40], every=5 * MIN)[-1].case_id
    send(city, clock, key, "WG-1", "water_gauge", value=3)
    with city.session() as s:
        task = s.scalars(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.spec_id == "Device_check")).one()
        complete_task(s, EngineContext(clock), task.id, Actor("supervisor1", Role.SUPERVISOR, None, task.district_code),
                      {"device_verdict": "restored", "device_note": "积水已退"})
        s.commit()
    with city.session() as s:
        assert s.scalars(select(TaskRow.spec_id).where(TaskRow.case_id == case_id)).all() != []  # the case goes on
        assert "Device_check" not in s.scalars(select(TaskRow.spec_id).where(TaskRow.case_id == case_id)).all()
        assert verify_cases(s, [s.get(Case, case_id).number]).ok


def test_a_camera_recognising_a_pedlar_twice_files_a_camera_case_below_confidence_it_does_not(city, clock):
    key = register(city, clock, "CAM-1", DeviceKind.CAMERA, department="enforcement")
    low = [send(city, clock, key, "CAM-1", "camera", class_code="E0501", confidence=0.5) for _ in range(3)]
    assert {r.outcome for r in low} == {Outcome.NORMAL}
    first = send(city, clock, key, "CAM-1", "camera", class_code="E0501", confidence=0.91)
    clock.advance(2 * MIN)
    second = send(city, clock, key, "CAM-1", "camera", class_code="E0501", confidence=0.88)
    assert (first.outcome, second.outcome) == (Outcome.PENDING, Outcome.CASE_STARTED)
    with city.session() as s:
        case = s.get(Case, second.case_id)
        assert (case.class_code, case.source) == ("E0501", "camera")


def test_a_deployed_rule_table_replaces_the_one_in_bpmn(city, clock):
    from pathlib import Path

    from engine.definitions import deploy, read_definition_files

    files = read_definition_files([Path(__file__).resolve().parents[3] / "bpmn"])
    # The designer lowers the manhole covers' threshold from 15° to 5°.
    files["intake_rules.dmn"] = files["intake_rules.dmn"].replace(
        '<outputEntry id="Out_intake_2_0"><text>15</text>', '<outputEntry id="Out_intake_2_0"><text>5</text>')
    with city.session() as s:
        assert deploy(s, files, "designer1", clock.now())[1]
    key = register(city, clock, "MC-1", DeviceKind.MANHOLE_COVER, department="drainage")
    result = send(city, clock, key, "MC-1", "manhole_cover", value=8)
    assert result.outcome == Outcome.CASE_STARTED
    with city.session() as s:
        assert s.get(Case, result.case_id).class_code == "C0103"

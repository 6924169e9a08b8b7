"""``citycase patrol roster|attendance`` and the flood scenario against a running city, on the system clock."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.audit import verify_cases
from engine.clock import SystemClock
from engine.models import Case, TaskRow
from tests.cli.test_devices import _run

TZ = "Asia/Shanghai"


def test_roster_then_attendance_today_on_the_system_clock(city):
    today = SystemClock().now().astimezone(ZoneInfo(TZ))
    # A shift that began over an hour ago, nobody on duty: absent (or, just after midnight, not started).
    start = "00:00" if today.hour < 2 else f"{today.hour - 1:02d}:00"
    _run(city.url, "patrol", "roster", "supervisor1", today.date().isoformat(), start, "23:59")
    out = json.loads(_run(city.url, "patrol", "attendance", "--json").stdout)
    assert [r["username"] for r in out] == ["supervisor1"]
    assert out[0]["status"] in ("absent", "not_started")
    bad = _run(city.url, "patrol", "roster", "acceptor1", today.date().isoformat(), "08:30", "17:30", code=1)
    assert "not an active supervisor" in bad.stderr
    assert "not a date" in _run(city.url, "patrol", "attendance", "--day", "monday", code=1).stderr


def test_the_flood_scenario_files_dispatches_and_ends_with_a_check_task(city):
    out = json.loads(_run(city.url, "devices", "simulate", "--scenario", "flood", "--seed", "4", "--json").stdout)
    assert out["device"] == "WG-FLOOD-04" and out["outcomes"].count("case_started") == 1
    with city.session() as s:
        case = s.scalar(select(Case).where(Case.number == out["case"]))
        specs = set(s.scalars(select(TaskRow.spec_id).where(TaskRow.case_id == case.id)))
        assert case.department_code.startswith("drainage") and case.urgency == "emergency"
        assert {"handle", "Device_check"} <= specs
        assert verify_cases(s, [out["case"]]).ok
    again = _run(city.url, "devices", "simulate", "--scenario", "flood", "--seed", "4", code=1)
    assert "exists already" in again.stderr


def test_simulate_with_the_field_ends_with_a_flood_and_a_patrol_day(city):
    out = json.loads(_run(city.url, "simulate", "--cases", "3", "--seed", "2", "--field", "--json").stdout)
    field = out["field"]
    assert field["flood_case"] and "back_to_normal" in field["flood_readings"]
    assert field["supervisors"] >= 1 and field["positions"] > 0 and len(field["silent_device_cases"]) == 1

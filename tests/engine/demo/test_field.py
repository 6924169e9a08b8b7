"""The demo's field: the flood gauge's one case (filed, dispatched to drainage, alarms attached, a
check task when the water falls back) and the supervisors' roster, duty and tracks."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.audit import verify_cases
from engine.demo.field import FLOOD_GAUGE, flood, patrol
from engine.models import Case, Event, TaskRow
from engine.patrol.attendance import attendance
from engine.patrol.coverage import coverage
from engine.patrol.models import Attendance
from tests.conftest import START

TZ = "Asia/Shanghai"
END = START + timedelta(hours=2)  # 11:00 on a working Wednesday


def test_the_flood_files_one_case_for_drainage_with_the_rules_urgency_and_ends_with_a_check_task(city):
    run = flood(city.factory, END, TZ)
    assert run.outcomes.count("case_started") == 1
    assert run.outcomes.count("attached") >= 3 and run.outcomes[-1] in ("back_to_normal", "normal")
    assert "back_to_normal" in run.outcomes
    with city.session() as s:
        case = s.scalar(select(Case).where(Case.number == run.flood_case))
        assert (case.source, case.class_code, case.urgency) == ("sensor", "E0405", "emergency")
        assert case.department_code.startswith("drainage")
        specs = set(s.scalars(select(TaskRow.spec_id).where(TaskRow.case_id == case.id)))
        assert {"handle", "Device_check"} <= specs
        actors = set(s.scalars(select(Event.actor).where(Event.case_id == case.id)))
        assert f"device:{FLOOD_GAUGE}" in actors
        assert verify_cases(s, [case.number]).ok
    assert len(run.silent_cases) == 1  # the manhole cover that never reported


def test_the_patrol_day_has_late_early_absent_and_tracks_through_the_cells(city):
    run = patrol(city.factory, END, TZ)
    with city.session() as s:
        day = END.astimezone(ZoneInfo(TZ)).date()
        statuses = {r.username: r.status for r in attendance(s, day, day, END)}
        cover = {c.username: c for c in coverage(s, day, TZ)}
    assert run.supervisors == 5 and run.positions > 5 * 60
    assert statuses["supervisor2"] == Attendance.LATE and statuses["supervisor3"] == Attendance.EARLY
    assert statuses["supervisor5"] == Attendance.ABSENT and statuses["supervisor1"] == Attendance.ON_DUTY
    assert len(cover["supervisor1"].covered) >= 5

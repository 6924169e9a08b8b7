"""Every path through case_lifecycle.bpmn, driven through the engine on a migrated database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.audit import verify_all
from engine.commands import complete_task, supervise
from engine.errors import Conflict, Forbidden, ValidationError
from engine.model import Actor, EngineContext
from engine.models import Case, Event, Outbox, TaskRow
from tests.factories import DISPATCHER, CaseDriver, handler_of, leader_of, task_of

DEPT = "sanitation@330191"  # dispatch.dmn's answer for E0102 in district 330191


@pytest.fixture
def ctx(clock):
    return EngineContext(clock)


@pytest.fixture
def drive(city, ctx):
    return CaseDriver(city, ctx)


def _to_handle(d: CaseDriver, **report) -> None:
    d.start(**report)
    if "verify" in d.tasks():
        d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": DEPT})
    assert d.tasks() == ["handle"]


def _finish(d: CaseDriver) -> None:
    d.do("handle", {"outcome": "done", "result": "已清理"})
    d.do("check", {"verdict": "passed"})
    d.do("close", {"note": "结案"})


def _assert_verified(db) -> None:
    with db.session() as s:
        checked, problems = verify_all(s)
    assert checked >= 1 and problems == []


def test_citizen_report_is_verified_then_handled_and_closed(drive, city):
    drive.start()
    assert drive.tasks() == ["verify"]
    drive.do("verify", {"verdict": "confirmed"})
    drive.do("accept", {"decision": "file"})
    drive.do("file", {"decision": "file"})
    with city.session() as s:
        assert task_of(s, drive.case_id, "dispatch").role == "dispatcher"
    drive.do("dispatch", {"department": DEPT})
    with city.session() as s:
        handle = task_of(s, drive.case_id, "handle")
        assert handle.department_code == DEPT and handle.role == "handler"
        assert handle.warn_at < handle.due_at
    _finish(drive)
    case = drive.case()
    assert (case.status, case.outcome, case.department_code) == ("closed", "closed", DEPT)
    assert case.closed_at is not None
    assert drive.tasks() == ["Followup_callback"]  # a citizen's case is closed, then called back (回访)
    drive.do("Followup_callback", {"satisfaction": "satisfied", "channel": "phone"})
    assert drive.tasks() == []
    _assert_verified(city)


def test_supervisor_report_skips_verification(drive):
    drive.start(source="supervisor")
    assert drive.tasks() == ["accept"]


def test_report_not_found_on_site_ends_invalid(drive):
    drive.start(source="hotline")
    drive.do("verify", {"verdict": "not_found", "note": "现场无此问题"})
    assert (drive.case().status, drive.tasks()) == ("invalid", [])


def test_shift_leader_voids_with_a_reason(drive):
    drive.start(source="supervisor")
    drive.do("accept", {"decision": "void"})
    with pytest.raises(ValidationError) as err:
        drive.do("file", {"decision": "void"})  # the reason is required when voiding
    assert "void_reason" in err.value.fields
    drive.do("file", {"decision": "void", "void_reason": "重复上报"})
    assert drive.case().status == "voided"


def test_self_handled_report_is_confirmed_and_closed(drive):
    drive.start(source="supervisor", self_handled=True)
    assert drive.tasks() == ["confirm_self_handled"]
    drive.do("confirm_self_handled", {"decision": "close"})
    case = drive.case()
    assert (case.status, case.outcome) == ("closed", "self_handled")


def test_self_handled_not_confirmed_goes_the_normal_way(drive):
    drive.start(source="supervisor", self_handled=True)
    drive.do("confirm_self_handled", {"decision": "normal"})
    assert drive.tasks() == ["accept"]


def test_approved_return_goes_back_to_dispatch(drive):
    _to_handle(drive)
    drive.do("handle", {"outcome": "return", "result": "不属于本单位"})
    drive.do("approve_return", {"decision": "approve"})
    assert drive.tasks() == ["dispatch"]
    drive.do("dispatch", {"department": "municipal"})
    with drive.db.session() as s:
        assert task_of(s, drive.case_id, "handle").department_code == "municipal"
    drive.do("handle", {"outcome": "done", "result": "ok"}, handler_of("municipal"))
    drive.do("check", {"verdict": "passed"})
    drive.do("close")
    assert drive.case().status == "closed"


def test_rejected_return_keeps_the_department_and_deadline(drive):
    _to_handle(drive)
    with drive.db.session() as s:
        due = task_of(s, drive.case_id, "handle").due_at
    drive.do("handle", {"outcome": "return", "result": "不属于本单位"})
    drive.do("approve_return", {"decision": "reject"})
    with drive.db.session() as s:
        again = task_of(s, drive.case_id, "handle")
    assert (again.department_code, again.due_at) == (DEPT, due)


def test_approved_extension_moves_the_deadline(drive, city, ctx):
    _to_handle(drive)
    with city.session() as s:
        before = task_of(s, drive.case_id, "handle").due_at
    drive.do("handle", {"outcome": "extend", "result": "需要更换设备", "extension_amount": 1,
                        "extension_unit": "workday"})
    drive.do("approve_extension", {"decision": "approve"})
    with city.session() as s:
        after = task_of(s, drive.case_id, "handle").due_at
        from engine.calendar import get_calendar

        cal = get_calendar(s, ctx.timezone, ctx.work_windows)
    assert after == cal.add_working_time(before, 1, "workday")


def test_rejected_extension_keeps_the_deadline(drive):
    _to_handle(drive)
    with drive.db.session() as s:
        before = task_of(s, drive.case_id, "handle").due_at
    drive.do("handle", {"outcome": "extend", "result": "x", "extension_amount": 2, "extension_unit": "workhour"})
    drive.do("approve_extension", {"decision": "reject"})
    with drive.db.session() as s:
        assert task_of(s, drive.case_id, "handle").due_at == before


def test_suspension_stops_the_clock_and_resumption_restarts_it(drive, city, ctx, clock):
    _to_handle(drive)
    from engine.calendar import get_calendar

    with city.session() as s:
        handle = task_of(s, drive.case_id, "handle")
        cal = get_calendar(s, ctx.timezone, ctx.work_windows)
    clock.advance(timedelta(minutes=30))
    remaining = cal.working_time_between(clock.now(), handle.due_at)
    drive.do("handle", {"outcome": "suspend", "result": "等待管线迁改"})
    drive.do("approve_suspension", {"decision": "approve"})
    assert drive.case().status == "suspended"
    assert drive.tasks() == ["resume"]
    clock.advance(timedelta(days=3))
    drive.do("resume", {"note": "恢复"})
    with city.session() as s:
        resumed = task_of(s, drive.case_id, "handle")
    assert drive.case().status == "open"
    assert resumed.due_at == cal.add_working_time(clock.now(), remaining, "minute")


def test_rejected_suspension_returns_to_handling(drive):
    _to_handle(drive)
    drive.do("handle", {"outcome": "suspend", "result": "x"})
    drive.do("approve_suspension", {"decision": "reject"})
    assert drive.tasks() == ["handle"]


def test_failed_check_is_reworked_by_the_same_department(drive):
    _to_handle(drive)
    drive.do("handle", {"outcome": "done", "result": "已清理"})
    drive.do("check", {"verdict": "failed", "note": "仍有垃圾"})
    with drive.db.session() as s:
        assert task_of(s, drive.case_id, "handle").department_code == DEPT
    _finish(drive)
    assert drive.case().status == "closed"


def test_overdue_handling_escalates_to_the_departments_leader(drive, city, ctx, clock):
    from engine.commands import fire_timers

    _to_handle(drive)
    with city.session() as s:
        handle = task_of(s, drive.case_id, "handle")
    clock.set(handle.warn_at + timedelta(seconds=1))
    with city.session() as s:
        assert fire_timers(s, ctx, drive.case_id) is not None
    clock.set(handle.due_at + timedelta(seconds=1))
    with city.session() as s:
        fire_timers(s, ctx, drive.case_id)
    assert drive.tasks() == ["escalate", "handle"]
    with city.session() as s:
        escalate = task_of(s, drive.case_id, "escalate")
        assert (escalate.role, escalate.department_code) == ("leader", DEPT)
        kinds = sorted(s.scalars(select(Outbox.kind).where(Outbox.case_id == drive.case_id)))
    assert kinds == ["deadline_warning", "overdue"]
    drive.do("escalate", {"level": "order", "order": "立即处置"})
    with city.session() as s:
        # Firing again changes nothing: each timer fires once.
        assert fire_timers(s, ctx, drive.case_id) is None
    _finish(drive)
    _assert_verified(city)


def test_leader_supervision_order_on_an_open_case(drive, city, ctx):
    _to_handle(drive)
    for _ in range(2):
        with city.session() as s:
            supervise(s, ctx, drive.case_id, leader_of(DEPT), "order", "请今日完成")
    with city.session() as s:
        orders = s.scalars(select(Outbox.payload).where(Outbox.case_id == drive.case_id)).all()
    assert len(orders) == 2 and all("请今日完成" in o for o in orders)
    _finish(drive)
    assert drive.case().status == "closed"
    _assert_verified(city)


def test_later_cases_are_unaffected_by_an_earlier_supervision_order(drive, city, ctx):
    _to_handle(drive)
    with city.session() as s:
        supervise(s, ctx, drive.case_id, leader_of(DEPT), "remind", "请加快")
    other = CaseDriver(city, ctx)
    _to_handle(other)
    _finish(other)
    assert other.case().status == "closed"
    _assert_verified(city)


def test_supervision_needs_a_leader_and_an_open_case(drive, city, ctx):
    _to_handle(drive)
    with pytest.raises(Forbidden), city.session() as s:
        supervise(s, ctx, drive.case_id, DISPATCHER, "order", "x")
    with pytest.raises(Forbidden), city.session() as s:
        supervise(s, ctx, drive.case_id, leader_of("gas"), "order", "x")
    _finish(drive)
    with pytest.raises(Conflict), city.session() as s:
        supervise(s, ctx, drive.case_id, leader_of(DEPT), "order", "x")


def test_history_records_every_command_with_a_hash_chain(drive, city):
    _to_handle(drive)
    with city.session() as s:
        events = s.scalars(select(Event).where(Event.case_id == drive.case_id).order_by(Event.seq)).all()
    assert [e.kind for e in events] == ["start", "complete", "complete", "complete", "complete"]
    assert [e.task_spec for e in events[1:]] == ["verify", "accept", "file", "dispatch"]
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


def test_cases_get_daily_numbers(drive, city, ctx):
    first = drive.start()
    second = CaseDriver(city, ctx).start()
    assert first.number == "2026112500001" and second.number == "2026112500002"


def test_form_data_is_validated_and_nothing_is_written_on_error(drive, city):
    drive.start()
    with city.session() as s:
        before = s.scalar(select(func.count()).select_from(Event))
    for bad, field in (({}, "verdict"), ({"verdict": "maybe"}, "verdict"), ({"verdict": "confirmed", "x": 1}, "x")):
        with pytest.raises(ValidationError) as err:
            drive.do("verify", bad)
        assert field in err.value.fields
    with city.session() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == before
    assert drive.case().version == 1


def test_wrong_role_department_or_district_is_forbidden(drive, city, ctx):
    _to_handle(drive)
    with city.session() as s:
        handle = task_of(s, drive.case_id, "handle")
    for actor in (DISPATCHER, handler_of("gas"), Actor("x", "handler", None)):
        with pytest.raises(Forbidden), city.session() as s:
            complete_task(s, ctx, handle.id, actor, {"outcome": "done", "result": "x"})
    assert drive.tasks() == ["handle"]


def test_supervisor_of_another_district_is_forbidden(drive, city, ctx):
    drive.start()
    with city.session() as s:
        verify = task_of(s, drive.case_id, "verify")
    with pytest.raises(Forbidden), city.session() as s:
        complete_task(s, ctx, verify.id, Actor("supervisor5", "supervisor", None, "330193"),
                      {"verdict": "confirmed"})


def test_completing_a_completed_task_again_is_a_conflict(drive, city, ctx):
    drive.start()
    with city.session() as s:
        verify = task_of(s, drive.case_id, "verify")
    drive.do("verify", {"verdict": "confirmed"})
    with pytest.raises(Conflict), city.session() as s:
        complete_task(s, ctx, verify.id, Actor("supervisor1", "supervisor", None, "330191"),
                      {"verdict": "confirmed"})
    assert drive.case().version == 2


def test_stale_version_is_a_conflict_and_writes_nothing(drive, city, ctx):
    drive.start()
    with city.session() as s:
        verify = task_of(s, drive.case_id, "verify")
    with pytest.raises(Conflict), city.session() as s:
        complete_task(s, ctx, verify.id, Actor("supervisor1", "supervisor", None, "330191"),
                      {"verdict": "confirmed"}, expected_version=0)
    assert drive.tasks() == ["verify"]


def test_claimed_task_belongs_to_the_claimer(drive, city, ctx):
    from engine.commands import claim, release

    drive.start(source="supervisor")
    with city.session() as s:
        accept = task_of(s, drive.case_id, "accept")
        claim(s, ctx, accept.id, Actor("acceptor1", "acceptor", "supervision_center"))
    with pytest.raises(Forbidden), city.session() as s:
        complete_task(s, ctx, accept.id, Actor("acceptor2", "acceptor", "supervision_center"), {"decision": "file"})
    with city.session() as s:
        release(s, ctx, accept.id, Actor("acceptor1", "acceptor", "supervision_center"))
        assert s.get(TaskRow, accept.id).assignee is None
    _assert_verified(city)


@pytest.mark.parametrize("report,field", [
    ({"class_code": "E9999"}, "class_code"),
    ({"lon": 10.0, "lat": 10.0}, None),
    ({"source": "pigeon"}, "source"),
    ({"urgency": "whenever"}, "urgency"),
    ({"self_handled": True}, "self_handled"),
    ({"colour": "red"}, "colour"),
])
def test_bad_reports_are_refused_and_write_nothing(drive, city, report, field):
    with pytest.raises(ValidationError) as err:
        drive.start(**report)
    if field:
        assert field in err.value.fields
    else:
        assert "outside every grid cell" in str(err.value)
    with city.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_a_component_id_fills_class_and_location(drive, city):
    from engine.models import Component

    with city.session() as s:
        component = s.scalar(select(Component).order_by(Component.id).limit(1))
    drive.start(source="supervisor", component_id=component.id, class_code=None, lon=None, lat=None)
    case = drive.case()
    assert (case.class_code, case.grid_code, case.component_id) == (component.class_code, component.grid_code,
                                                                     component.id)


def test_every_timed_step_warns_at_80_percent_and_marks_overdue_once(drive, city, ctx, clock):
    from engine.calendar import get_calendar
    from engine.commands import fire_timers

    drive.start()
    with city.session() as s:
        verify = task_of(s, drive.case_id, "verify")
        cal = get_calendar(s, ctx.timezone, ctx.work_windows)
    limit = cal.working_time_between(verify.created_at, verify.due_at, "workhour")
    assert limit == 2  # time_limits.dmn: step_hours of a normal class
    assert cal.working_time_between(verify.created_at, verify.warn_at, "workhour") == pytest.approx(1.6)
    for instant in (verify.warn_at, verify.due_at):
        clock.set(instant + timedelta(seconds=1))
        with city.session() as s:
            assert fire_timers(s, ctx, drive.case_id) is not None
        with city.session() as s:
            assert fire_timers(s, ctx, drive.case_id) is None
    with city.session() as s:
        kinds = sorted(s.scalars(select(Outbox.kind).where(Outbox.case_id == drive.case_id)))
    assert kinds == ["step_overdue", "step_warning"]
    assert drive.tasks() == ["verify"]  # the marks do not interrupt the step
    drive.do("verify", {"verdict": "confirmed"})
    _assert_verified(city)

"""assign: a department's leader gives an open handling task to a named handler of the department
and moves it to another with a reason. The task is then the handler's alone (their "mine" tab; a
colleague can neither claim nor complete it), each step is a history event, and verify re-derives
the holder from those events."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from engine.audit import verify_cases
from engine.commands import assign, claim, complete_task
from engine.errors import Conflict, Forbidden, ValidationError
from engine.model import Actor, EngineContext
from engine.models import Event, TaskRow, User
from engine.queries import Tab, TaskFilters, visible_tasks
from engine.queries.assignment import assignable_people, department_tasks
from tests.factories import DISPATCHER, CaseDriver, handler_of, leader_of, task_of

DEPT = "sanitation@330191"  # dispatch.dmn's answer for E0102 in district 330191
LEADER = leader_of(DEPT)
FIRST = handler_of(DEPT)  # handler_sanitation_330191
SECOND = Actor("handler2_sanitation_330191", "handler", DEPT)  # the demo's second handler of the unit


@pytest.fixture
def handle(city, clock) -> tuple[CaseDriver, str]:
    d = CaseDriver(city, EngineContext(clock))
    d.start()
    d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": DEPT})
    with city.session() as s:
        return d, task_of(s, d.case_id, "handle").id


def _assign(city, clock, task_id, to, reason="", by=LEADER, **kw):
    with city.session() as s:
        result = assign(s, EngineContext(clock), task_id, by, to, reason, **kw)
        s.commit()
    return result


def _mine(city, clock, actor) -> list[str]:
    with city.session() as s:
        page = visible_tasks(s, actor, TaskFilters(tab=Tab.MINE), None, at=clock.now())
    return [t.id for t in page.items]


def test_assigned_task_is_the_handlers_and_a_colleague_cannot_take_it(city, clock, handle):
    d, task_id = handle
    _assign(city, clock, task_id, SECOND.username)
    assert _mine(city, clock, SECOND) == [task_id]
    with city.session() as s, pytest.raises(Forbidden):
        claim(s, EngineContext(clock), task_id, FIRST)
    with city.session() as s, pytest.raises(Forbidden):
        complete_task(s, EngineContext(clock), task_id, FIRST, {"outcome": "done", "result": "x"})
    d.do("handle", {"outcome": "done", "result": "已清理"}, actor=SECOND)
    assert d.tasks() == ["check"]


def test_reassign_needs_a_reason_and_the_history_and_verify_follow(city, clock, handle):
    d, task_id = handle
    _assign(city, clock, task_id, FIRST.username)
    with pytest.raises(ValidationError) as err:
        _assign(city, clock, task_id, SECOND.username)
    assert "reason" in err.value.fields
    _assign(city, clock, task_id, SECOND.username, "张师傅今天休假", expected_assignee=FIRST.username)
    assert _mine(city, clock, FIRST) == [] and _mine(city, clock, SECOND) == [task_id]
    with city.session() as s:
        events = list(s.scalars(select(Event).where(Event.case_id == d.case_id, Event.kind == "assign")
                                .order_by(Event.seq)))
        assert [e.actor for e in events] == [LEADER.username] * 2
        assert "张师傅今天休假" in events[-1].data and SECOND.username in events[-1].data
        number = d.case().number
        assert verify_cases(s, [number]).ok
        # A holder changed behind the history's back is found by verify.
        s.execute(update(TaskRow).where(TaskRow.id == task_id).values(assignee=FIRST.username))
        s.commit()
        problems = verify_cases(s, [number]).problems
    assert any("held by" in p.detail for p in problems)


def test_a_stale_view_is_a_conflict_and_changes_nothing(city, clock, handle):
    _d, task_id = handle
    _assign(city, clock, task_id, FIRST.username)
    with pytest.raises(Conflict):  # the second leader still saw the task unassigned
        _assign(city, clock, task_id, SECOND.username, "换人", expected_assignee=None)
    with city.session() as s:
        assert s.get(TaskRow, task_id).assignee == FIRST.username


@pytest.mark.parametrize("target, field", [("handler_drainage_330191", "assignee"), ("nobody", "assignee"),
                                           ("leader_sanitation_330191", "assignee")])
def test_only_active_people_of_the_department_with_the_tasks_role(city, clock, handle, target, field):
    _d, task_id = handle
    with pytest.raises(ValidationError) as err:
        _assign(city, clock, task_id, target)
    assert field in err.value.fields
    with city.session() as s:
        assert s.get(TaskRow, task_id).assignee is None


def test_an_inactive_handler_is_refused(city, clock, handle):
    _d, task_id = handle
    with city.session() as s:
        s.execute(update(User).where(User.username == SECOND.username).values(active=False))
        s.commit()
        assert SECOND.username not in [p.username for p in assignable_people(s, DEPT).get("handler", [])]
    with pytest.raises(ValidationError):
        _assign(city, clock, task_id, SECOND.username)


@pytest.mark.parametrize("who", [FIRST, DISPATCHER, leader_of("sanitation@330192"), Actor("leader1", "leader")])
def test_only_the_departments_leader_assigns(city, clock, handle, who):
    _d, task_id = handle
    with pytest.raises(Forbidden):
        _assign(city, clock, task_id, SECOND.username, by=who)
    with city.session() as s:
        assert s.get(TaskRow, task_id).assignee is None
        assert department_tasks(s, who) == []
        assert [t.id for t in department_tasks(s, LEADER)] == [task_id]


def test_a_finished_task_cannot_be_assigned(city, clock, handle):
    d, task_id = handle
    d.do("handle", {"outcome": "done", "result": "已清理"})
    with pytest.raises(Conflict):
        _assign(city, clock, task_id, SECOND.username)

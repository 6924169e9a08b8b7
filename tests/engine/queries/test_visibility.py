"""The one visibility rule: what each role, department and district may see — and the listings
show exactly what the detail checks allow."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import Forbidden, NotFound
from engine.model import Actor
from engine.models import Case, TaskRow
from engine.queries import (
    CaseFilters,
    Tab,
    TaskFilters,
    case_view,
    check_task_permission,
    check_task_visible,
    may_see_case,
    may_supervise,
    search_cases,
    task_view,
    task_visible,
    visible_tasks,
)
from tests.engine.queries.conftest import DEPT_A, DEPT_B
from tests.factories import handler_of, leader_of

ACTORS = [
    Actor("supervisor1", "supervisor", None, "330193"),
    Actor("supervisor2", "supervisor", None, "330191"),
    Actor("roving", "supervisor"),
    Actor("acceptor1", "acceptor", "supervision_center"),
    Actor("dispatcher1", "dispatcher", "command_center"),
    handler_of(DEPT_A),
    handler_of(DEPT_B),
    Actor("nodept", "handler"),
    leader_of(DEPT_A),
    Actor("leader1", "leader"),
    Actor("auditor1", "auditor"),
    Actor("designer1", "designer"),
]


def _all(session, model):
    return list(session.scalars(select(model)))


def _listed(session, actor, at) -> set[str]:
    ids, after = set(), None
    while True:
        page = visible_tasks(session, actor, TaskFilters(), after, at=at, limit=2)
        ids |= {t.id for t in page.items}
        if page.next is None:
            return ids
        after = page.next


def test_task_listing_shows_exactly_what_the_check_allows(city, clock, cases):
    with city.session() as s:
        rows = _all(s, TaskRow)
        assert {r.role for r in rows} >= {"handler", "supervisor", "acceptor"}
        for actor in ACTORS:
            allowed = {r.id for r in rows if task_visible(actor, r)}
            assert _listed(s, actor, clock.now()) == allowed, actor


def test_handlers_see_their_department_only(city, clock, cases):
    with city.session() as s:
        a = s.scalars(select(TaskRow).where(TaskRow.case_id == cases.handle_a.case_id)).one()
        b = s.scalars(select(TaskRow).where(TaskRow.case_id == cases.handle_b.case_id)).one()
        assert (a.spec_id, a.department_code, b.department_code) == ("handle", DEPT_A, DEPT_B)
        check_task_visible(handler_of(DEPT_A), a)
        with pytest.raises(Forbidden, match="department"):
            check_task_visible(handler_of(DEPT_A), b)
        with pytest.raises(Forbidden, match="department"):
            task_view(s, handler_of(DEPT_A), b.id)
        with pytest.raises(Forbidden, match="role"):
            task_view(s, Actor("acceptor1", "acceptor"), a.id)
        view = task_view(s, handler_of(DEPT_A), a.id)
        assert (view.task.id, view.case.id, view.case.department_code) == (a.id, cases.handle_a.case_id, DEPT_A)
        assert "result" in {f.key for f in view.form.fields} or view.form.fields


def test_supervisors_see_their_district(city, clock, cases):
    with city.session() as s:
        verify = s.scalars(select(TaskRow).where(TaskRow.case_id == cases.verify.case_id)).one()
        assert verify.spec_id == "verify" and verify.district_code == "330193"
        assert task_visible(Actor("s", "supervisor", None, "330193"), verify)
        assert task_visible(Actor("s", "supervisor"), verify)  # not tied to a district
        with pytest.raises(Forbidden, match="district"):
            check_task_visible(Actor("s", "supervisor", None, "330191"), verify)


def test_a_claimed_task_is_its_claimers(city, clock, cases):
    with city.session() as s:
        row = s.scalars(select(TaskRow).where(TaskRow.case_id == cases.handle_a.case_id)).one()
        row.assignee = "someone_else"
        s.flush()
        me = handler_of(DEPT_A)
        check_task_visible(me, row)  # still visible …
        with pytest.raises(Forbidden, match="claimed by someone_else"):
            check_task_permission(me, row)  # … but not mine to act on
        with pytest.raises(Forbidden, match="claimed"):
            task_view(s, me, row.id, acting=True)
        for tab in Tab:  # neither in my queue nor in my group's
            assert row.id not in {t.id for t in visible_tasks(s, me, TaskFilters(tab=tab), None,
                                                              at=clock.now()).items}
        mine = visible_tasks(s, Actor("someone_else", "handler", DEPT_A), TaskFilters(tab=Tab.MINE), None,
                             at=clock.now())
        assert [t.id for t in mine.items] == [row.id]


def test_case_search_shows_exactly_the_visible_cases(city, clock, cases):
    with city.session() as s:
        all_cases = _all(s, Case)
        assert len(all_cases) == 4
        for actor in ACTORS:
            listed = {c.id for c in search_cases(s, actor, CaseFilters(), None, at=clock.now()).items}
            assert listed == {c.id for c in all_cases if may_see_case(actor, c)}, actor
        by_role = {a.username: {c.id for c in all_cases if may_see_case(a, c)} for a in ACTORS}
    assert by_role["acceptor1"] == by_role["auditor1"] == by_role["leader1"] == {c.id for c in all_cases}
    assert by_role[handler_of(DEPT_A).username] == by_role[leader_of(DEPT_A).username] == {cases.handle_a.case_id}
    assert by_role["nodept"] == by_role["designer1"] == set()
    assert by_role["supervisor1"] == {cases.verify.case_id}
    assert by_role["roving"] == {c.id for c in all_cases}


def test_case_view_checks_scope(city, clock, cases):
    with city.session() as s:
        view = case_view(s, handler_of(DEPT_A), cases.handle_a.case_id)
        assert view.case.number and [t.spec_id for t in view.tasks] == ["handle"]
        assert case_view(s, Actor("acceptor1", "acceptor"), view.case.number).case.id == view.case.id
        with pytest.raises(Forbidden):
            case_view(s, handler_of(DEPT_B), view.case.number)
        with pytest.raises(Forbidden):
            case_view(s, None, view.case.number)
        with pytest.raises(NotFound):
            case_view(s, Actor("acceptor1", "acceptor"), "209901010001")


def test_only_leaders_of_the_department_supervise_open_cases(city, clock, cases):
    with city.session() as s:
        case = s.get(Case, cases.handle_a.case_id)
        assert may_supervise(leader_of(DEPT_A), case)
        assert may_supervise(Actor("leader1", "leader"), case)
        assert not may_supervise(leader_of(DEPT_B), case)
        assert not may_supervise(handler_of(DEPT_A), case)
        case.status = "closed"
        assert not may_supervise(leader_of(DEPT_A), case)

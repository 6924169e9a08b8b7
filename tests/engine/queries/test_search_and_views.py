"""Listings and views: task filters and lights, case search filters, keyset pages, history,
the data a task sees."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from engine.model import Actor, Light
from engine.models import Case, TaskRow
from engine.queries import (
    CaseFilters,
    Tab,
    TaskFilters,
    case_history,
    case_view,
    local_days,
    search_cases,
    visible_tasks,
)
from engine.queries.process_data import case_data, task_data
from tests.engine.queries.conftest import DEPT_A, DEPT_B
from tests.factories import handler_of

ACCEPTOR = Actor("acceptor1", "acceptor", "supervision_center")
AUDITOR = Actor("auditor1", "auditor")


def _numbers(s, filters: CaseFilters, at) -> set[str]:
    return {c.number for c in search_cases(s, AUDITOR, filters, None, at=at).items}


def test_search_filters(city, clock, cases):
    at = clock.now()
    with city.session() as s:
        by_id = {c.id: c for c in s.scalars(select(Case))}
        a, b = by_id[cases.handle_a.case_id], by_id[cases.handle_b.case_id]
        v, acc = by_id[cases.verify.case_id], by_id[cases.accept.case_id]
        everything = {c.number for c in by_id.values()}
        assert _numbers(s, CaseFilters(), at) == everything
        assert _numbers(s, CaseFilters(number=a.number), at) == {a.number}
        assert _numbers(s, CaseFilters(number=a.number[:8]), at) == everything  # same day's prefix
        assert _numbers(s, CaseFilters(keyword="lamp"), at) == {b.number}
        assert _numbers(s, CaseFilters(keyword="100%"), at) == {a.number}  # % is literal
        assert _numbers(s, CaseFilters(keyword="0%"), at) == {a.number}
        assert _numbers(s, CaseFilters(keyword="_"), at) == set()  # _ is literal too
        assert _numbers(s, CaseFilters(keyword=a.address), at) == everything
        assert _numbers(s, CaseFilters(district="330192"), at) == {b.number}
        assert _numbers(s, CaseFilters(street=v.street_code), at) == {v.number}
        assert _numbers(s, CaseFilters(grid=acc.grid_code), at) == {c.number for c in (a, acc)}
        assert _numbers(s, CaseFilters(department=DEPT_B), at) == {b.number}
        assert _numbers(s, CaseFilters(source="hotline"), at) == {v.number}
        assert _numbers(s, CaseFilters(class_code="E0102"), at) == everything
        assert _numbers(s, CaseFilters(class_code="C0101"), at) == set()
        assert _numbers(s, CaseFilters(status="open"), at) == everything
        assert _numbers(s, CaseFilters(status="closed"), at) == set()
        assert _numbers(s, CaseFilters(created_from=v.created_at), at) == {v.number, acc.number}
        assert _numbers(s, CaseFilters(created_before=v.created_at), at) == {a.number, b.number}
        first, end = local_days(at.date(), at.date(), "Asia/Shanghai")
        assert _numbers(s, CaseFilters(created_from=first, created_before=end), at) == everything
        first, end = local_days(at.date() + timedelta(days=1), None, "Asia/Shanghai")
        assert end is None and _numbers(s, CaseFilters(created_from=first), at) == set()
        assert _numbers(s, CaseFilters(overdue=True), at) == set()
        dues = {case_id: due for case_id, due in s.execute(select(TaskRow.case_id, TaskRow.due_at))}
        first = min(dues.values())
        late = {by_id[case_id].number for case_id, due in dues.items() if due <= first}
        assert late and late != everything
        assert _numbers(s, CaseFilters(overdue=True), first) == late
        assert _numbers(s, CaseFilters(overdue=True), max(dues.values())) == everything
        assert _numbers(s, CaseFilters(overdue=True, source="nope"), first) == set()


def test_search_pages_newest_first(city, clock, cases):
    with city.session() as s:
        expected = [c.number for c in s.scalars(select(Case).order_by(Case.created_at.desc(), Case.id.desc()))]
        seen, after, pages = [], None, 0
        while True:
            page = search_cases(s, AUDITOR, CaseFilters(), after, at=clock.now(), limit=3)
            seen += [c.number for c in page.items]
            pages += 1
            if page.next is None:
                break
            after = page.next
    assert seen == expected and pages == 2


def test_task_filters_lights_and_counts(city, clock, cases):
    me = handler_of(DEPT_A)
    with city.session() as s:
        row = s.scalars(select(TaskRow).where(TaskRow.case_id == cases.handle_a.case_id)).one()
        assert row.warn_at is not None and row.due_at is not None
        for at, light in ((clock.now(), Light.GREEN), (row.warn_at, Light.YELLOW), (row.due_at, Light.RED)):
            page = visible_tasks(s, me, TaskFilters(tab=Tab.GROUP), None, at=at, with_counts=True)
            assert [t.id for t in page.items] == [row.id] and page.items[0].light_at(at) == light
            assert page.counts == {lt: int(lt == light) for lt in Light} and page.total == 1
            only = visible_tasks(s, me, TaskFilters(tab=Tab.GROUP, light=light), None, at=at)
            assert [t.id for t in only.items] == [row.id] and only.counts is None
            other = next(lt for lt in Light if lt != light)
            assert visible_tasks(s, me, TaskFilters(light=other), None, at=at, with_counts=True).items == []

        acceptor = visible_tasks(s, ACCEPTOR, TaskFilters(tab=Tab.GROUP), None, at=clock.now())
        accept_id = cases.accept.case_id
        assert [t.case_id for t in acceptor.items] == [accept_id]
        for f, hit in ((TaskFilters(district="330191"), True), (TaskFilters(district="330192"), False),
                       (TaskFilters(source="citizen"), True), (TaskFilters(source="hotline"), False),
                       (TaskFilters(class_code="E0102"), True), (TaskFilters(street="nope"), False),
                       (TaskFilters(grid=s.get(Case, accept_id).grid_code), True),
                       (TaskFilters(created_from=clock.now() + timedelta(seconds=1)), False),
                       (TaskFilters(created_before=clock.now() + timedelta(seconds=1)), True),
                       (TaskFilters(tab=Tab.MINE), False)):
            page = visible_tasks(s, ACCEPTOR, f, None, at=clock.now(), with_counts=True)
            assert bool(page.items) == hit and page.total == int(hit), f


def test_task_pages_continue_after_the_cursor_nulls_last(city, clock, cases):
    with city.session() as s:  # four handler tasks of one department, one without deadline
        ids = []
        for _ in range(2):
            for driver in (cases.handle_a, cases.handle_b):
                ids.append(s.scalar(select(TaskRow.id).where(TaskRow.case_id == driver.case_id)))
        s.execute(update(TaskRow).values(role="handler", department_code=DEPT_A))
        s.execute(update(TaskRow).where(TaskRow.id == ids[0]).values(due_at=None, warn_at=None))
        rows = list(s.scalars(select(TaskRow)))
        expected = [r.id for r in sorted(rows, key=lambda r: (r.due_at is None, r.due_at or clock.now(), r.id))]
        assert expected[-1] == ids[0]
        seen, after = [], None
        while True:
            page = visible_tasks(s, handler_of(DEPT_A), TaskFilters(), after, at=clock.now(), limit=1,
                                 with_counts=True)
            assert page.total == len(rows)
            seen += [t.id for t in page.items]
            if page.next is None:
                break
            after = page.next
    assert seen == expected


def test_history_and_data(city, clock, cases):
    with city.session() as s:
        view = case_view(s, ACCEPTOR, cases.handle_a.case_id)
        history = case_history(s, ACCEPTOR, view.case)
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        assert [e.kind for e in history] == ["start"] + ["complete"] * 4
        assert [e.task_spec for e in history[1:]] == ["verify", "accept", "file", "dispatch"]
        assert history[-1].data["form"]["department"] == DEPT_A
        assert history[0].data["initial"]["district_code"] == "330191"
        assert history[-1].actor == "dispatcher1" and history[-1].actor_name not in ("", "dispatcher1")
        assert len({e.hash for e in history}) == len(history)
        assert case_data(s, view.case.id)["department"] == DEPT_A

        accept = case_view(s, ACCEPTOR, cases.accept.case_id)
        assert task_data(s, accept.tasks[0].id)["district_code"] == "330191"


def test_dispatch_task_sees_the_suggested_department(city, clock, cases):
    driver = cases.accept
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    with city.session() as s:
        dispatch = s.scalars(select(TaskRow).where(TaskRow.case_id == driver.case_id)).one()
        assert dispatch.spec_id == "dispatch"
        assert task_data(s, dispatch.id)["suggested_department"] in (DEPT_A, "sanitation")

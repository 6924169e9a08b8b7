"""The inbox: scopes per role, claim/release, filters, per-light counts, keyset pagination."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from engine.model import Actor, EngineContext
from engine.models import TaskRow
from engine.queries import Tab, TaskFilters, parse_cursor, visible_tasks
from tests.factories import CaseDriver
from tests.web.webkit import cell_in, login, make_app, supervisor_case, task


def _counts(html: str) -> dict[str, int]:
    return {light: int(n) for light, n in
            re.findall(r'data-light="(\w+)">[^<]*<span class="count">(\d+)</span>', html)}


def _task_ids(html: str) -> list[str]:
    return re.findall(r'<tr class="task" data-task="([0-9a-f-]+)"', html)


def _handle_stage(db, clock, department="sanitation@330191") -> CaseDriver:
    driver = CaseDriver(db, EngineContext(clock))
    driver.start()
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": department})
    return driver


def test_group_tab_claim_and_release(sqlite_city, clock):
    case = supervisor_case(sqlite_city, clock)
    accept = task(sqlite_city, case.case_id, "accept")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    assert _task_ids(client.get("/inbox").get_data(as_text=True)) == []
    group = client.get("/inbox?tab=group").get_data(as_text=True)
    assert _task_ids(group) == [accept.id]
    assert case.number in group and "暴露垃圾" in group and "东湖区" in group

    response = client.post(f"/tasks/{accept.id}/claim", data={"next": "/inbox?tab=group"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox?tab=group")
    assert _task_ids(client.get("/inbox").get_data(as_text=True)) == [accept.id]
    assert _task_ids(client.get("/inbox?tab=group").get_data(as_text=True)) == []
    assert task(sqlite_city, case.case_id, "accept").assignee == "acceptor1"

    client.post(f"/tasks/{accept.id}/release")
    assert _task_ids(client.get("/inbox").get_data(as_text=True)) == []
    assert _task_ids(client.get("/inbox?tab=group").get_data(as_text=True)) == [accept.id]


def test_claim_of_a_finished_task_is_a_conflict_page(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    response = client.post("/tasks/00000000-0000-0000-0000-000000000000/claim")
    assert response.status_code == 409
    assert "案卷已被他人处理" in response.get_data(as_text=True)


def test_handler_sees_only_own_department(sqlite_city, clock):
    driver = _handle_stage(sqlite_city, clock)
    handle = task(sqlite_city, driver.case_id, "handle")
    app = make_app(sqlite_city, clock)
    own, other = app.test_client(), app.test_client()
    login(own, "handler_sanitation_330191")
    login(other, "handler_sanitation_330192")
    assert _task_ids(own.get("/inbox?tab=group").get_data(as_text=True)) == [handle.id]
    assert _task_ids(other.get("/inbox?tab=group").get_data(as_text=True)) == []
    assert own.get(f"/tasks/{handle.id}").status_code == 200
    assert other.get(f"/tasks/{handle.id}").status_code == 403
    assert other.post(f"/tasks/{handle.id}/claim").status_code == 403
    assert other.post(f"/tasks/{handle.id}", data={"outcome": "done", "result": "x"}).status_code == 403


def test_supervisor_group_is_the_own_district(sqlite_city, clock):
    lon, lat = cell_in(sqlite_city, "330192")
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    driver.start(lon=lon, lat=lat)
    verify = task(sqlite_city, driver.case_id, "verify")
    app = make_app(sqlite_city, clock)
    mine, other = app.test_client(), app.test_client()
    login(mine, "supervisor3")  # district 330192
    login(other, "supervisor1")  # district 330191
    assert _task_ids(mine.get("/inbox?tab=group").get_data(as_text=True)) == [verify.id]
    assert _task_ids(other.get("/inbox?tab=group").get_data(as_text=True)) == []
    assert other.get(f"/tasks/{verify.id}").status_code == 403


@pytest.mark.parametrize("user", ["auditor1", "designer1", "admin1"])
def test_roles_without_inbox_get_403(sqlite_city, clock, user):
    client = make_app(sqlite_city, clock).test_client()
    login(client, user)
    assert client.get("/inbox").status_code == 403


def test_lights_and_counts_follow_the_clock(sqlite_city, clock):
    first = supervisor_case(sqlite_city, clock)
    clock.advance(timedelta(minutes=30))
    second = supervisor_case(sqlite_city, clock)
    a = task(sqlite_city, first.case_id, "accept")
    b = task(sqlite_city, second.case_id, "accept")
    assert a.warn_at < a.due_at <= b.due_at
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")

    html = client.get("/inbox?tab=group").get_data(as_text=True)
    assert _counts(html) == {"green": 2, "yellow": 0, "red": 0}
    assert _task_ids(html) == [a.id, b.id]  # sorted by due time

    clock.set(a.warn_at + timedelta(minutes=1))
    expected_b = "yellow" if clock.now() >= b.warn_at else "green"
    counts = _counts(client.get("/inbox?tab=group").get_data(as_text=True))
    assert counts["yellow"] >= 1 and counts[expected_b] >= 1 and counts["red"] == 0

    clock.set(a.due_at + timedelta(minutes=1))
    html = client.get("/inbox?tab=group").get_data(as_text=True)
    assert _counts(html)["red"] == 1
    assert "已超时" in html
    assert _task_ids(client.get("/inbox?tab=group&light=red").get_data(as_text=True)) == [a.id]
    others = _task_ids(client.get("/inbox?tab=group&light=green").get_data(as_text=True)) + \
        _task_ids(client.get("/inbox?tab=group&light=yellow").get_data(as_text=True))
    assert others == [b.id]
    # The counts stay those of the whole filter when one light is selected.
    assert sum(_counts(client.get("/inbox?tab=group&light=red").get_data(as_text=True)).values()) == 2


def test_filters_class_district_street_grid_date(sqlite_city, clock):
    east = supervisor_case(sqlite_city, clock, "330191")
    west = supervisor_case(sqlite_city, clock, "330192", class_code="E0104")
    clock.advance(timedelta(days=1))
    later = supervisor_case(sqlite_city, clock, "330191")
    ids = {n: task(sqlite_city, c.case_id, "accept").id for n, c in
           (("east", east), ("west", west), ("later", later))}
    with sqlite_city.session() as s:
        from engine.models import Case

        east_case = s.get(Case, east.case_id)
        street, grid = east_case.street_code, east_case.grid_code
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")

    def ids_for(query: str) -> set[str]:
        return set(_task_ids(client.get("/inbox?tab=group&" + query).get_data(as_text=True)))

    assert ids_for("") == set(ids.values())
    assert ids_for("class=E0104") == {ids["west"]}
    assert ids_for("district=330191") == {ids["east"], ids["later"]}
    assert ids_for(f"street={street}") == {ids["east"], ids["later"]}
    assert ids_for(f"grid={grid}") == {ids["east"], ids["later"]}
    today = date(2026, 11, 25)
    assert ids_for(f"from={today}&to={today}") == {ids["east"], ids["west"]}
    assert ids_for(f"from={today + timedelta(days=1)}") == {ids["later"]}
    assert ids_for("from=not-a-date") == set(ids.values())
    assert sum(_counts(client.get("/inbox?tab=group&class=E0104").get_data(as_text=True)).values()) == 1


def test_source_filter(sqlite_city, clock):
    citizen = CaseDriver(sqlite_city, EngineContext(clock))
    citizen.start()
    hotline = CaseDriver(sqlite_city, EngineContext(clock))
    hotline.start(source="hotline")
    with sqlite_city.session() as s:
        from engine.models import Case

        district = s.get(Case, citizen.case_id).district_code
    supervisor = {"330191": "supervisor1", "330192": "supervisor3", "330193": "supervisor5"}[district]
    client = make_app(sqlite_city, clock).test_client()
    login(client, supervisor)
    v_citizen = task(sqlite_city, citizen.case_id, "verify").id
    v_hotline = task(sqlite_city, hotline.case_id, "verify").id
    assert set(_task_ids(client.get("/inbox?tab=group").get_data(as_text=True))) == {v_citizen, v_hotline}
    assert _task_ids(client.get("/inbox?tab=group&source=hotline").get_data(as_text=True)) == [v_hotline]


def test_page_pagination_links(sqlite_city, clock, monkeypatch):
    import web.inbox.views as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    cases = []
    for _ in range(5):
        cases.append(supervisor_case(sqlite_city, clock))
        clock.advance(timedelta(minutes=1))
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    seen: list[str] = []
    url = "/inbox?tab=group&district=330191"
    pages = 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += _task_ids(html)
        pages += 1
        match = re.search(r'href="([^"]+)" class="next-page"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        if url:
            assert "district=330191" in url and "after=" in url
    assert pages == 3
    assert seen == [task(sqlite_city, c.case_id, "accept").id for c in cases]


def test_inbox_query_keyset_pagination_nulls_last(city, clock):
    cases = []
    for _ in range(5):
        cases.append(supervisor_case(city, clock))
        clock.advance(timedelta(minutes=7))
    ids = [task(city, c.case_id, "accept").id for c in cases]
    with city.session() as s:  # one task without deadline, one sharing another's due time
        s.execute(update(TaskRow).where(TaskRow.id == ids[1]).values(due_at=None, warn_at=None))
        due = s.get(TaskRow, ids[3]).due_at
        s.execute(update(TaskRow).where(TaskRow.id == ids[4]).values(due_at=due))
    with city.session() as s:
        rows = {r.id: r for r in s.query(TaskRow).filter(TaskRow.id.in_(ids))}
    expected = sorted(ids, key=lambda i: (rows[i].due_at is None, rows[i].due_at or clock.now(), i))
    assert expected[-1] == ids[1]

    seen: list[str] = []
    after = None
    with city.session() as s:
        while True:
            page = visible_tasks(s, Actor("acceptor1", "acceptor"), TaskFilters(tab=Tab.GROUP), after,
                                 at=clock.now(), limit=2, with_counts=True)
            seen += [r.id for r in page.items]
            assert sum(page.counts.values()) == 5 and page.total == 5
            if page.next is None:
                break
            after = parse_cursor(page.next.encode())
            assert after == page.next
    assert seen == expected


def test_after_parameter_garbage_shows_first_page(sqlite_city, clock):
    supervisor_case(sqlite_city, clock)
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    for junk in ("x", "~", "2026~" + "a" * 40, "20261125T010000.000000Z"):
        assert client.get(f"/inbox?tab=group&after={junk}").status_code == 200
    assert parse_cursor("nonsense") is None

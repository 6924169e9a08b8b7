"""Finding and handling work in the inbox: counts on the tabs, sorting by age or deadline, batch
claim with a report per task, 催办/督办 marks on the recipient's row, the new-task count."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from engine.commands import supervise
from engine.model import EngineContext
from engine.models import TaskRow
from tests.factories import CaseDriver, leader_of
from tests.web.webkit import login, make_app, supervisor_case


def _task_ids(html: str) -> list[str]:
    return re.findall(r'<tr class="task[^"]*" data-task="([0-9a-f-]+)"', html)


def _tab_counts(html: str) -> tuple[int, int]:
    counts = re.findall(r'<span class="tab-count">(\d+)</span>', html)
    return int(counts[0]), int(counts[1])


def _accept_tasks(db, clock, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        case = supervisor_case(db, clock)
        clock.advance(timedelta(minutes=5))
        with db.session() as s:
            ids.append(s.scalar(select(TaskRow.id).where(TaskRow.case_id == case.case_id)))
    return ids


def test_tabs_show_counts_and_batch_claim_reports_each_task(sqlite_city, clock):
    ids = _accept_tasks(sqlite_city, clock, 3)
    app = make_app(sqlite_city, clock)
    client = app.test_client()
    login(client, "acceptor1")
    html = client.get("/inbox?tab=group").get_data(as_text=True)
    assert _tab_counts(html) == (0, 3)
    # Someone else takes the second task before the batch is sent.
    with sqlite_city.session() as s:
        s.execute(TaskRow.__table__.update().where(TaskRow.id == ids[1]).values(assignee="acceptor_other"))
        s.commit()
    response = client.post("/tasks/claim", data={"task": ids, "next": "/inbox?tab=group"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已签收 2 个任务" in page and "1 个任务未能签收" in page
    with sqlite_city.session() as s:
        owners = dict(s.execute(select(TaskRow.id, TaskRow.assignee).where(TaskRow.id.in_(ids))).all())
    assert owners == {ids[0]: "acceptor1", ids[1]: "acceptor_other", ids[2]: "acceptor1"}
    mine = client.get("/inbox?tab=mine").get_data(as_text=True)
    assert _tab_counts(mine) == (2, 0) and "取消签收" in mine


def test_sorting_by_age_both_ways(sqlite_city, clock):
    ids = _accept_tasks(sqlite_city, clock, 3)
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    assert _task_ids(client.get("/inbox?tab=group&sort=oldest").get_data(as_text=True)) == ids
    newest = client.get("/inbox?tab=group&sort=newest").get_data(as_text=True)
    assert _task_ids(newest) == ids[::-1]
    assert 'aria-sort="ascending"' in newest


def test_sorted_pages_continue_where_they_stopped(city, clock):
    from engine.queries import Tab, TaskFilters, visible_tasks
    from engine.queries.tasks import TaskSort
    from tests.factories import ACCEPTOR

    ids = _accept_tasks(city, clock, 5)
    seen: list[str] = []
    with city.session() as s:
        after = None
        while True:
            page = visible_tasks(s, ACCEPTOR, TaskFilters(tab=Tab.GROUP, sort=TaskSort.NEWEST), after,
                                 at=clock.now(), limit=2)
            seen += [t.id for t in page.items]
            if page.next is None:
                break
            after = page.next
    assert seen == ids[::-1]


def test_a_leaders_press_marks_the_recipients_row(city, clock):
    sqlite_city = city  # both databases: the mark compares stored instants
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    driver.start(description="路边暴露垃圾")
    for spec, data in (("verify", {"verdict": "confirmed"}), ("accept", {"decision": "file"}),
                       ("file", {"decision": "file"}), ("dispatch", {"department": "sanitation@330191"})):
        driver.do(spec, data)
    client = make_app(sqlite_city, clock).test_client()
    login(client, "handler_sanitation_330191")
    assert "press-" not in client.get("/inbox?tab=group").get_data(as_text=True)
    with sqlite_city.session() as s:
        supervise(s, EngineContext(clock), driver.case_id, leader_of("sanitation@330191"), "order", "今天必须处理")
        s.commit()
    html = client.get("/inbox?tab=group").get_data(as_text=True)
    row = re.search(r'<tr class="task pressed-order".*?</tr>', html, re.S)
    assert row and "督办" in row.group(0) and "今天必须处理" in row.group(0)


def test_count_endpoint_tells_the_page_about_new_tasks(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    before = client.get("/inbox/count.json").get_json()
    _accept_tasks(sqlite_city, clock, 1)
    after = client.get("/inbox/count.json").get_json()
    assert after["group"] == before["group"] + 1 and after["mine"] == before["mine"]
    citizen = make_app(sqlite_city, clock).test_client()
    assert citizen.get("/inbox/count.json").status_code in (302, 401)

"""The case list page: filters, scope per role, keyset pages."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from engine.model import EngineContext
from engine.models import Case, TaskRow
from tests.factories import CaseDriver
from tests.web.webkit import cell_in, login, make_app

DEPT = "sanitation@330191"


def _numbers(html: str) -> list[str]:
    return re.findall(r'<tr class="case" data-case="(\d+)">', html)


def _case(db, clock, district: str, description: str, dispatch: bool = False) -> str:
    lon, lat = cell_in(db, district)
    driver = CaseDriver(db, EngineContext(clock))
    driver.start(lon=lon, lat=lat, description=description)
    if dispatch:
        driver.do("verify", {"verdict": "confirmed"})
        driver.do("accept", {"decision": "file"})
        driver.do("file", {"decision": "file"})
        driver.do("dispatch", {"department": DEPT})
    clock.advance(timedelta(minutes=3))
    return driver.case().number


def test_filters_scope_and_pages(sqlite_city, clock):
    lamp = _case(sqlite_city, clock, "330192", "路灯不亮 broken lamp")
    bins = [_case(sqlite_city, clock, "330191", f"垃圾桶满溢 full bin {i}", dispatch=i == 0) for i in range(3)]
    app = make_app(sqlite_city, clock)
    client = app.test_client()
    login(client, "auditor1")
    assert _numbers(client.get("/cases").get_data(as_text=True)) == [*reversed(bins), lamp]  # newest first
    assert _numbers(client.get("/cases?keyword=lamp").get_data(as_text=True)) == [lamp]
    assert _numbers(client.get("/cases?district=330191").get_data(as_text=True)) == list(reversed(bins))
    assert _numbers(client.get("/cases?keyword=bin&district=330192").get_data(as_text=True)) == []
    assert _numbers(client.get("/cases?status=closed").get_data(as_text=True)) == []
    assert _numbers(client.get(f"/cases?department={DEPT}").get_data(as_text=True)) == [bins[0]]
    assert _numbers(client.get("/cases?status=bogus").get_data(as_text=True)) == [*reversed(bins), lamp]
    assert _numbers(client.get("/cases?source=citizen&from=2026-11-25&to=2026-11-25")
                    .get_data(as_text=True)) == [*reversed(bins), lamp]
    assert _numbers(client.get("/cases?from=2026-11-26").get_data(as_text=True)) == []
    assert _numbers(client.get("/cases?overdue=1").get_data(as_text=True)) == []
    with sqlite_city.session() as s:
        due = s.scalar(select(TaskRow.due_at).join(Case, Case.id == TaskRow.case_id)
                       .where(Case.number == bins[0], TaskRow.spec_id == "handle"))
    clock.set(due + timedelta(minutes=1))
    assert bins[0] in _numbers(client.get("/cases?overdue=1").get_data(as_text=True))

    login(client, f"handler_{DEPT.replace('@', '_')}")  # a handler: their department's cases only
    assert _numbers(client.get("/cases").get_data(as_text=True)) == [bins[0]]
    login(client, "designer1")
    assert client.get("/cases").status_code == 403


def test_next_page_link(sqlite_city, clock, monkeypatch):
    made = [_case(sqlite_city, clock, "330191", f"case {i}") for i in range(3)]
    app = make_app(sqlite_city, clock)
    client = app.test_client()
    login(client, "acceptor1")
    import web.cases.search as search_page

    original = search_page.search_cases
    monkeypatch.setattr(search_page, "search_cases", lambda *a, **k: original(*a, **{**k, "limit": 2}))
    seen, url, pages = [], "/cases?district=330191", 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += _numbers(html)
        pages += 1
        match = re.search(r'href="([^"]+)" class="next-page"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        if url:
            assert "district=330191" in url and "after=" in url
    assert pages == 2 and seen == list(reversed(made))

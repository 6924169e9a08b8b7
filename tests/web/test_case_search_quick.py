"""A dispatcher finds last week's overdue manhole cases in 东湖区: the keyword matches class names
("井盖" is every kind of manhole cover), a one-click "上周超期" keeps the other filters, and the
case's printable sheet opens from the result."""

from __future__ import annotations

import re
from datetime import timedelta

from engine.model import EngineContext
from tests.factories import CaseDriver
from tests.web.webkit import cell_in, login, make_app


def _case(db, clock, district: str, class_code: str, dispatch: str | None = None) -> str:
    lon, lat = cell_in(db, district)
    d = CaseDriver(db, EngineContext(clock))
    d.start(lon=lon, lat=lat, class_code=class_code, description="现场问题")
    if dispatch:
        d.do("verify", {"verdict": "confirmed"})
        d.do("accept", {"decision": "file"})
        d.do("file", {"decision": "file"})
        d.do("dispatch", {"department": dispatch})
    clock.advance(timedelta(minutes=3))
    return d.case().number


def _numbers(html: str) -> list[str]:
    return re.findall(r'<tr class="case" data-case="(\d+)">', html)


def test_last_weeks_overdue_manhole_cases_in_a_district(sqlite_city, clock):
    late_cover = _case(sqlite_city, clock, "330191", "C0103", dispatch="drainage")  # 雨水井盖, 4 working hours
    rubbish = _case(sqlite_city, clock, "330191", "E0102", dispatch="sanitation@330191")
    other_district = _case(sqlite_city, clock, "330192", "C0102", dispatch="drainage")
    clock.advance(timedelta(days=7))  # the next week: last week's handling tasks are overdue
    fresh_cover = _case(sqlite_city, clock, "330191", "C0101", dispatch="water_supply")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")

    found = client.get("/cases?keyword=井盖&district=330191").get_data(as_text=True)
    assert set(_numbers(found)) == {late_cover, fresh_cover}
    quick = dict((label, url) for url, label in re.findall(r'<a href="(/cases\?[^"]+)">([^<]+)</a>', found))
    page = client.get(quick["上周超期"].replace("&amp;", "&")).get_data(as_text=True)
    assert _numbers(page) == [late_cover] and rubbish not in page and other_district not in page
    sheet = client.get(f"/cases/{late_cover}/sheet")
    assert sheet.status_code == 200 and "案卷处理单" in sheet.get_data(as_text=True)


def _saved(html: str) -> dict[str, str]:
    return {name: url.replace("&amp;", "&") for url, name in
            re.findall(r'<a href="(/cases\?[^"]+)" class="saved-search">([^<]+)</a>', html)}


def test_a_saved_search_finds_the_cases_in_one_click_and_stays_relative(sqlite_city, clock):
    """常用查询: saved once, "last week's overdue manhole cases in 东湖区" is one click away, every week."""
    late_cover = _case(sqlite_city, clock, "330191", "C0103", dispatch="drainage")
    clock.advance(timedelta(days=7))
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")  # dispatcher1 has this one already in the demo (engine/demo/seed.py)
    page = client.get("/cases?keyword=井盖&district=330191&period=last_week&overdue=1").get_data(as_text=True)
    assert _numbers(page) == [late_cover]
    r = client.post("/cases/saved", data={"name": "东湖区井盖上周超期", "keyword": "井盖", "district": "330191",
                                          "period": "last_week", "overdue": "1"})
    assert r.status_code == 303
    listing = client.get("/cases").get_data(as_text=True)
    one_click = _saved(listing)["东湖区井盖上周超期"]
    assert _numbers(client.get(one_click).get_data(as_text=True)) == [late_cover]

    # a week later the same click shows the new last week (the saved period is relative, not dates)
    clock.advance(timedelta(days=7))
    next_cover = _case(sqlite_city, clock, "330191", "C0103", dispatch="drainage")
    clock.advance(timedelta(days=7))
    login(client, "acceptor1")  # a new day's sign-in (sessions end after SESSION_ABSOLUTE_HOURS)
    assert _saved(client.get("/cases").get_data(as_text=True))["东湖区井盖上周超期"] == one_click
    assert _numbers(client.get(one_click).get_data(as_text=True)) == [next_cover]

    refused = client.post("/cases/saved", data={"name": "东湖区井盖上周超期", "keyword": "井盖"},
                          follow_redirects=True).get_data(as_text=True)
    assert "已有同名的常用查询" in refused
    assert "至少设置一个筛选条件" in client.post("/cases/saved", data={"name": "空"},
                                                  follow_redirects=True).get_data(as_text=True)

    other = make_app(sqlite_city, clock).test_client()  # another user's list has none of it
    login(other, "shiftleader1")
    assert "东湖区井盖上周超期" not in _saved(other.get("/cases").get_data(as_text=True))
    search_id = re.search(r'/cases/saved/(\d+)/delete', listing).group(1)
    assert other.post(f"/cases/saved/{search_id}/delete").status_code == 303
    assert "东湖区井盖上周超期" in _saved(client.get("/cases").get_data(as_text=True))  # not theirs to delete
    client.post(f"/cases/saved/{search_id}/delete")
    assert _saved(client.get("/cases").get_data(as_text=True)) == {}


def test_the_demo_dispatcher_finds_them_with_one_click_from_the_case_list(sqlite_city, clock):
    late_cover = _case(sqlite_city, clock, "330191", "C0103", dispatch="drainage")
    clock.advance(timedelta(days=7))
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")
    one_click = _saved(client.get("/cases").get_data(as_text=True))["东湖区井盖上周超期"]
    assert _numbers(client.get(one_click).get_data(as_text=True)) == [late_cover]


def test_a_saved_relative_period_on_the_system_clock(sqlite_city):
    """The period is resolved at the moment of the click, on the real clock the pages use."""
    from engine.clock import ManualClock, SystemClock

    today_cover = _case(sqlite_city, ManualClock(SystemClock().now()), "330191", "C0103")  # reported now
    app = make_app(sqlite_city, None)  # no CLOCK: the system clock
    client = app.test_client()
    login(client, "acceptor1")
    assert client.post("/cases/saved", data={"name": "本周井盖", "keyword": "井盖", "period": "this_week"}).status_code == 303
    one_click = _saved(client.get("/cases").get_data(as_text=True))["本周井盖"]
    assert today_cover in _numbers(client.get(one_click).get_data(as_text=True))
    assert "from=" not in one_click  # saved as a period, not as dates
    app.extensions["citycase"].engine.dispose()


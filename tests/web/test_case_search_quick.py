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

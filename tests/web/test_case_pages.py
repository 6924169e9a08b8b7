"""The case page: who may see it, data, tasks, history, map, supervision orders."""

from __future__ import annotations

import html as htmllib
import json
import re

import pytest

from engine.model import EngineContext
from tests.factories import CaseDriver
from tests.web.webkit import login, make_app
from web.geo_display import wgs84_to_gcj02


@pytest.fixture
def dispatched(sqlite_city, clock):
    """A citizen case in 330191 dispatched to sanitation@330191."""
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    driver.start()
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file", "note": "建议立案备注"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": "sanitation@330191"})
    return driver


@pytest.mark.parametrize("user,status", [
    ("acceptor1", 200), ("shiftleader1", 200), ("dispatcher1", 200), ("auditor1", 200), ("admin1", 200),
    ("leader1", 200), ("leader_sanitation_330191", 200), ("handler_sanitation_330191", 200),
    ("supervisor1", 200),  # district 330191
    ("handler_sanitation_330192", 403), ("leader_sanitation_330192", 403), ("supervisor3", 403),
    ("designer1", 403),
])
def test_who_may_see_a_case(sqlite_city, clock, dispatched, user, status):
    client = make_app(sqlite_city, clock).test_client()
    login(client, user)
    number = dispatched.case().number
    assert client.get(f"/cases/{number}").status_code == status


def test_case_page_content(sqlite_city, clock, dispatched):
    case = dispatched.case()
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    for text in (case.number, "暴露垃圾", "东湖区", case.grid_code, "路边暴露垃圾", "演示路 1 号", "公众举报",
                 "处置", "当前任务", "办理过程"):
        assert text in html, text
    # History: every event in order, with actor names, task names and form summaries.
    timeline = html.split('class="timeline"', 1)[1]
    assert timeline.index("上报") < timeline.index("核实") < timeline.index("受理") < timeline.index("派遣")
    assert "受理员1" in timeline and "建议立案" in timeline and "建议立案备注" in timeline
    assert "东湖区环境卫生管理处" in timeline
    # The open handle task with its deadline light; dispatchers cannot act on it.
    tasks = html.split("当前任务", 1)[1].split("办理过程", 1)[0]
    assert "light-green" in tasks and "/tasks/" not in tasks


def test_case_page_links_the_task_for_who_may_act(sqlite_city, clock, dispatched):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "handler_sanitation_330191")
    html = client.get(f"/cases/{dispatched.case().number}").get_data(as_text=True)
    assert re.search(r'href="/tasks/[0-9a-f-]+">处置</a>', html)


def test_map_data_wgs84_and_gcj02(sqlite_city, clock, dispatched):
    case = dispatched.case()

    def map_config(app) -> dict:
        client = app.test_client()
        login(client, "dispatcher1")
        page = client.get(f"/cases/{case.number}").get_data(as_text=True)
        return json.loads(htmllib.unescape(re.search(r'data-map="([^"]+)"', page).group(1)))

    plain = map_config(make_app(sqlite_city, clock))
    assert plain["point"] == [round(case.lat, 7), round(case.lon, 7)]
    assert len(plain["ring"]) == 5 and plain["tiles"] == ""
    shifted = map_config(make_app(sqlite_city, clock, TILE_CRS="GCJ02", TILE_URL="https://t.example.cn/{z}/{x}/{y}"))
    g_lon, g_lat = wgs84_to_gcj02(case.lon, case.lat)
    assert shifted["point"] == [round(g_lat, 7), round(g_lon, 7)]
    assert shifted["ring"][0] != plain["ring"][0]


def test_map_notice_without_leaflet(sqlite_city, clock, dispatched, monkeypatch):
    import web.cases.views as views

    monkeypatch.setattr(views, "leaflet_installed", lambda: False)
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")
    html = client.get(f"/cases/{dispatched.case().number}").get_data(as_text=True)
    assert "map-missing" in html and "leaflet.js" not in html


def test_leader_supervises(sqlite_city, clock, dispatched):
    number = dispatched.case().number
    client = make_app(sqlite_city, clock).test_client()
    login(client, "leader_sanitation_330191")
    html = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "督办/催办" in html
    response = client.post(f"/cases/{number}/supervise", data={"level": "order", "text": "请今天内处理完毕"})
    assert response.status_code == 302
    html = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "请今天内处理完毕" in html.split('class="timeline"', 1)[1]
    response = client.post(f"/cases/{number}/supervise", data={"level": "order", "text": ""})
    assert response.status_code == 302
    assert "督办未发出" in client.get(f"/cases/{number}").get_data(as_text=True)

    other = make_app(sqlite_city, clock).test_client()
    login(other, "dispatcher1")
    assert "督办/催办" not in other.get(f"/cases/{number}").get_data(as_text=True)
    assert other.post(f"/cases/{number}/supervise", data={"level": "order", "text": "x"}).status_code == 403


def test_case_list_is_scoped(sqlite_city, clock, dispatched):
    number = dispatched.case().number
    app = make_app(sqlite_city, clock)
    auditor, handler = app.test_client(), app.test_client()
    login(auditor, "auditor1")
    login(handler, "handler_sanitation_330192")
    assert number in auditor.get("/cases").get_data(as_text=True)
    assert number not in handler.get("/cases").get_data(as_text=True)
    assert auditor.get(f"/cases?number={number}").headers["Location"].endswith(f"/cases/{number}")

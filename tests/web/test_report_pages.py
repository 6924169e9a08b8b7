"""Reporting pages: the supervisors' phone page, public reports, follow-up and rating, rate limits."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from engine.model import EngineContext
from engine.models import Attachment, Case, Component, Event
from tests.factories import CaseDriver
from tests.web.webkit import cell_in, jpeg_bytes, login, make_app, tasks_of
from web.geo_display import wgs84_to_gcj02


def _case(db, number: str) -> Case:
    with db.session() as s:
        return s.scalar(select(Case).where(Case.number == number))


def test_mobile_page_is_phone_sized_with_class_picker(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    html = client.get("/report/mobile").get_data(as_text=True)
    assert 'name="viewport"' in html and 'class="mobile"' in html
    assert 'class="major-picker' in html and 'data-major="E01"' in html and 'data-major="C01"' in html
    assert '<option value="E0102"' in html
    assert 'name="self_handled"' in html and 'name="component_id"' in html
    other = make_app(sqlite_city, clock).test_client()
    login(other, "acceptor1")
    assert other.get("/report/mobile").status_code == 403


def test_mobile_report_with_photo_and_self_handled(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    token = client.post("/attachments", data={"file": (io.BytesIO(jpeg_bytes()), "a.jpg")}).get_json()["token"]
    lon, lat = cell_in(sqlite_city, "330191")
    response = client.post("/report/mobile", data={
        "class_code": "E0102", "lat": f"{lat}", "lon": f"{lon}", "coord_crs": "WGS84", "description": "垃圾",
        "address": "演示路", "photos": token, "self_handled": "true"})
    assert response.status_code == 302
    number = response.headers["Location"].rsplit("/", 1)[1]
    case = _case(sqlite_city, number)
    assert case.source == "supervisor" and case.reporter == "supervisor1" and case.district_code == "330191"
    with sqlite_city.session() as s:
        start = s.scalar(select(Event.data).where(Event.case_id == case.id, Event.kind == "start"))
    assert '"self_handled":true' in start
    # NOTE: bpmn/case_lifecycle.bpmn's gateway gw_source also takes the plain "accept" flow for
    # self-handled supervisor reports (both conditions are true); the engine owner was told.
    assert [t.spec_id for t in tasks_of(sqlite_city, case.id)] in (["confirm_self_handled"], ["accept"])
    with sqlite_city.session() as s:
        assert s.scalar(select(Attachment.case_id).where(Attachment.token == token)) == case.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert number in page and token in page


def test_mobile_report_by_component_id(sqlite_city, clock):
    with sqlite_city.session() as s:
        component = s.scalars(select(Component).order_by(Component.id).limit(1)).one()
        component_id, class_code = component.id, component.class_code
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    response = client.post("/report/mobile", data={"class_code": class_code, "component_id": component_id,
                                                   "description": "井盖破损"})
    assert response.status_code == 302
    case = _case(sqlite_city, response.headers["Location"].rsplit("/", 1)[1])
    assert case.component_id == component_id
    bad = client.post("/report/mobile", data={"class_code": class_code, "component_id": "9999999999999999"})
    assert bad.status_code == 400 and "9999999999999999" in bad.get_data(as_text=True)


def test_mobile_report_errors_keep_input(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    response = client.post("/report/mobile", data={"class_code": "", "lat": "", "lon": "",
                                                   "description": "留着这段描述"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "留着这段描述" in html and "请修改标出的字段" in html
    assert html.count('class="error-text"') >= 2


def test_report_field_errors_are_translated(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    lon, lat = cell_in(sqlite_city, "330191")
    data = {"class_code": "E9999", "lat": f"{lat}", "lon": f"{lon}", "description": "x"}
    html = client.post("/report/mobile", data=data).get_data(as_text=True)
    assert "请选择问题类别" in html and "unknown problem class" not in html
    client.post("/language", data={"lang": "en"})
    assert "Choose what kind of problem it is." in client.post("/report/mobile", data=data).get_data(as_text=True)


def test_public_report_follow_and_rate(sqlite_city, clock):
    app = make_app(sqlite_city, clock)
    citizen = app.test_client()
    assert citizen.get("/report/public").status_code == 200
    token = citizen.post("/attachments", data={"file": (io.BytesIO(jpeg_bytes()), "a.jpg")}).get_json()["token"]
    lon, lat = sqlite_city.city["center"]
    response = citizen.post("/report/public", data={
        "class_code": "E0102", "lat": str(lat), "lon": str(lon), "description": "小区门口垃圾",
        "contact": "13800000000", "photos": token})
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    number = re.search(r'class="case-number">(\d+)<', html).group(1)
    follow = re.search(r'class="follow-link"[^>]*>([^<]+)<', html).group(1)
    path = follow.split("localhost", 1)[1]
    case = _case(sqlite_city, number)
    assert case.source == "citizen" and case.reporter == "13800000000" and path == f"/follow/{case.public_token}"

    page = citizen.get(path)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    text = page.get_data(as_text=True)
    assert "处理中" in text and "已上报" in text and "小区门口垃圾" in text
    assert "rate-form" not in text  # not closed yet
    assert citizen.post(path + "/rate", data={"rating": "5"}).status_code == 302
    assert _case(sqlite_city, number).rating is None

    # Staff work the case to the end, writing internal notes the citizen must not see.
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    driver.case_id = case.id
    driver.do("verify", {"verdict": "confirmed", "note": "内部核实备注"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": "sanitation@330191", "note": "内部派遣意见"})
    driver.do("handle", {"outcome": "done", "result": "已清理"})
    driver.do("check", {"verdict": "passed"})
    driver.do("close", {})
    assert _case(sqlite_city, number).status == "closed"

    text = citizen.get(path).get_data(as_text=True)
    assert "已办结" in text and "已派遣至责任单位" in text and "rate-form" in text
    for secret in ("内部核实备注", "内部派遣意见", "supervisor", "handler_", "dispatcher1", "shiftleader1"):
        assert secret not in text, secret
    photo = re.search(r'src="(/attachments/[^"]+follow=[^"]+)"', text).group(1).replace("&amp;", "&")
    assert citizen.get(photo).status_code == 200
    assert app.test_client().get(photo.split("?")[0] + "?thumb=1").status_code == 404  # not without the token

    assert citizen.post(path + "/rate", data={"rating": "9"}).status_code == 302
    assert _case(sqlite_city, number).rating is None
    response = citizen.post(path + "/rate", data={"rating": "4", "note": "很快，谢谢"})
    assert response.status_code == 302
    case = _case(sqlite_city, number)
    assert case.rating == 4 and case.rating_note == "很快，谢谢"
    text = citizen.get(path).get_data(as_text=True)
    assert "★★★★☆" in text and "rate-form" not in text
    citizen.post(path + "/rate", data={"rating": "1"})
    assert _case(sqlite_city, number).rating == 4  # once only
    with sqlite_city.session() as s:
        from engine.models import Event

        kinds = [e.kind for e in s.query(Event).filter(Event.case_id == case.id).order_by(Event.seq)]
        assert kinds[-2:] == ["rating", "complete"]  # the rating is in the history, and answered the 回访
        from engine.audit import verify_all

        assert verify_all(s)[1] == []


def test_follow_with_a_bad_token_is_404(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    assert client.get("/follow/" + "x" * 32).status_code == 404
    assert client.get("/follow/short").status_code == 404


def test_public_report_validation_and_gcj02_clicks(sqlite_city, clock):
    app = make_app(sqlite_city, clock, TILE_CRS="GCJ02", TILE_URL="https://tiles.example.cn/{z}/{x}/{y}.png")
    client = app.test_client()
    response = client.post("/report/public", data={"class_code": "E0102", "description": "没有位置"})
    assert response.status_code == 400 and "没有位置" in response.get_data(as_text=True)
    lon, lat = sqlite_city.city["center"]
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    response = client.post("/report/public", data={"class_code": "E0102", "lat": f"{g_lat:.7f}",
                                                   "lon": f"{g_lon:.7f}", "coord_crs": "GCJ02"})
    assert response.status_code == 201
    number = re.search(r'class="case-number">(\d+)<', response.get_data(as_text=True)).group(1)
    case = _case(sqlite_city, number)
    assert abs(case.lon - lon) < 1e-6 and abs(case.lat - lat) < 1e-6


def test_public_report_rate_limit(sqlite_city, clock):
    client = make_app(sqlite_city, clock, PUBLIC_RATE_LIMIT="2/hour").test_client()
    lon, lat = sqlite_city.city["center"]
    data = {"class_code": "E0102", "lat": str(lat), "lon": str(lon)}
    assert client.post("/report/public", data=data).status_code == 201
    assert client.post("/report/public", data=data).status_code == 201
    response = client.post("/report/public", data=data)
    assert response.status_code == 429
    assert "请求过于频繁" in response.get_data(as_text=True)
    assert client.get("/report/public").status_code == 200  # reading the form is not limited
    with sqlite_city.session() as s:
        assert len(s.scalars(select(Event).where(Event.kind == "start")).all()) == 2


def test_refused_report_keeps_the_major_class(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    html = client.post("/report/mobile", data={"class_code": "E0102", "lat": "", "lon": ""}).get_data(as_text=True)
    assert re.search(r'<option value="E01"\s+selected>', html)
    assert re.search(r'<option value="E0102"\s+selected>', html)


def test_a_report_sent_twice_makes_one_case(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    html = client.get("/report/mobile").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    lon, lat = cell_in(sqlite_city, "330191")
    data = {"class_code": "E0102", "lat": f"{lat}", "lon": f"{lon}", "description": "地下车库出口垃圾",
            "idempotency_key": key}
    first = client.post("/report/mobile", data=data)
    again = client.post("/report/mobile", data=data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    with sqlite_city.session() as s:
        assert len(s.scalars(select(Case).where(Case.description == "地下车库出口垃圾")).all()) == 1
    assert client.get("/report/mobile").get_data(as_text=True).count(key) == 0  # a new form, a new key


def test_possible_duplicates_staff_see_numbers_citizens_a_count(sqlite_city, clock):
    lon, lat = cell_in(sqlite_city, "330191")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    first = client.post("/report/mobile", data={"class_code": "E0102", "lat": f"{lat}", "lon": f"{lon}",
                                                "description": "井边垃圾"})
    number = first.headers["Location"].rsplit("/", 1)[1]
    query = f"/report/similar?class_code=E0102&lat={lat + 0.0001}&lon={lon}"
    staff = client.get(query).get_json()
    assert staff["count"] == 1 and staff["cases"][0]["number"] == number
    assert client.get(f"/report/similar?class_code=E0101&lat={lat}&lon={lon}").get_json() == {"count": 0, "cases": []}
    public = make_app(sqlite_city, clock).test_client().get(query).get_json()
    assert public == {"count": 1}  # a citizen learns how many, not which

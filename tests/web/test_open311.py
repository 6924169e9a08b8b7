"""Open311 GeoReport v2: services, requests with an API key, read-back by id and token, errors."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from engine.apikeys import create_key, revoke
from engine.model import EngineContext
from engine.models import Attachment, Case, Department, ProblemClass, TaskRow
from tests.factories import CaseDriver
from tests.web.apikit import make_app
from tests.web.webkit import jpeg_bytes
from web.api.open311 import iso, request_dict, service_dict, status_notes, to_xml

BASE = "/open311/v2"
DEPT = "sanitation@330191"


@pytest.fixture
def api_key(city, clock) -> str:
    with city.session() as s:
        _row, plaintext = create_key(s, "fixmystreet", clock.now())
    return plaintext


def xml_items(response, root: str, item: str) -> list[dict[str, str | None]]:
    assert response.mimetype == "text/xml" and response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    tree = ET.fromstring(response.data)
    assert tree.tag == root
    return [{child.tag: child.text for child in el} for el in tree.findall(item)]


def xml_error(response) -> tuple[int, str]:
    errors = xml_items(response, "errors", "error")
    assert len(errors) == 1
    return int(errors[0]["code"]), errors[0]["description"]


def json_error(response) -> tuple[int, str]:
    body = response.get_json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    return body[0]["code"], body[0]["description"]


def post_request(client, fmt: str = "json", **fields: Any):
    return client.post(f"{BASE}/requests.{fmt}", data=fields)


# --- serializers in isolation -------------------------------------------------------------------------

def test_xml_serializer_escapes_and_nests():
    body = to_xml("service_requests", "request", [
        {"service_request_id": "1", "description": "a <b> & \"c\" 垃圾\x01", "lat": 30.5, "account_id": None,
         "metadata": False},
    ])
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<service_requests>')
    request = ET.fromstring(body).find("request")
    assert request.findtext("description") == 'a <b> & "c" 垃圾'
    assert request.findtext("lat") == "30.5" and request.findtext("metadata") == "false"
    assert request.find("account_id").text is None
    definition = ET.fromstring(to_xml("service_definition", None, {"service_code": "E0102", "attributes": []}))
    assert definition.findtext("service_code") == "E0102" and definition.find("attributes") is not None


def test_request_fields_and_status_mapping():
    at = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert iso(at, "Asia/Shanghai") == "2026-11-25T09:00:00+08:00"

    class Row:
        number, class_code, description, address, lat, lon = "2026112500001", "E0102", "d", "a", 30.2, 120.1
        created_at = updated_at = at

    for status, public, notes in (("open", "open", "已收到，正在现场核实您反映的问题"),
                                  ("suspended", "open", "因客观原因暂缓处置，条件具备后继续处理"),
                                  ("closed", "closed", "问题已处理完毕，案件已结案"),
                                  ("voided", "closed", "经审核不予立案，案件已作废"),
                                  ("invalid", "closed", "经核实问题不存在或信息不足，案件已作废"),
                                  ("merged", "closed", "与其他群众反映的同一问题合并处理")):
        Row.status = status
        fields = request_dict(Row, service_name="暴露垃圾", agency="环卫", steps=["verify"],
                              expected=at + timedelta(hours=4), tz="Asia/Shanghai")
        assert fields["status"] == public and fields["status_notes"] == notes
        assert fields["expected_datetime"] == ("2026-11-25T13:00:00+08:00" if public == "open" else None)
        assert fields["long"] == 120.1 and fields["lat"] == 30.2 and fields["service_request_id"] == Row.number
    assert status_notes("open", []) == "正在处理中"
    # a citizen reads where the case stands, never an internal step such as 督办
    assert status_notes("open", ["escalate", "handle"]) == "责任单位正在处置"
    assert status_notes("open", ["handle", "check"]) == "责任单位已处置，正在现场核查"
    pc = ProblemClass(code="E0102", kind="event", major="01", major_name="市容环境", minor="02", name="暴露垃圾",
                      name_en="exposed rubbish", handler_type="sanitation", suggested_limit=4,
                      suggested_unit="workhour", urgency="normal")
    service = service_dict(pc)
    assert service["group"] == "市容环境" and service["metadata"] is False and service["type"] == "realtime"
    assert "exposed rubbish" in service["keywords"]


# --- services ----------------------------------------------------------------------------------------------

def test_services_json_and_xml(app, city):
    client = app.test_client()
    r = client.get(f"{BASE}/services.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    services = r.get_json()
    with city.session() as s:
        active = {pc.code: pc for pc in s.scalars(select(ProblemClass).where(ProblemClass.active.is_(True)))}
    assert [sv["service_code"] for sv in services] == sorted(active)
    rubbish = next(sv for sv in services if sv["service_code"] == "E0102")
    assert rubbish == {"service_code": "E0102", "service_name": active["E0102"].name,
                       "description": rubbish["description"], "metadata": False, "type": "realtime",
                       "keywords": rubbish["keywords"], "group": active["E0102"].major_name}
    xml_services = xml_items(client.get(f"{BASE}/services.xml"), "services", "service")
    assert [sv["service_code"] for sv in xml_services] == sorted(active)
    assert xml_services[[sv["service_code"] for sv in xml_services].index("E0102")]["metadata"] == "false"

    r = client.get(f"{BASE}/services/E0102.json")
    assert r.status_code == 200 and r.get_json() == {"service_code": "E0102", "attributes": []}
    definition = ET.fromstring(client.get(f"{BASE}/services/E0102.xml").data)
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "E0102"
    r = client.get(f"{BASE}/services/E9999.json")
    assert r.status_code == 404 and json_error(r)[0] == 404
    r = client.get(f"{BASE}/services/E9999.xml")
    assert r.status_code == 404 and xml_error(r)[0] == 404
    assert client.get(f"{BASE}/services.html").status_code == 404


# --- requests: the round trip -----------------------------------------------------------------------------

def test_round_trip_to_closed(app, city, clock, api_key):
    client = app.test_client()
    lon, lat = city.city["center"]
    r = post_request(client, api_key=api_key, service_code="E0102", lat=lat, long=lon,
                     description="小区门口垃圾堆 <很多> & 有味", address_string="演示路 8 号",
                     email="resident@example.org", first_name="三", last_name="张", phone="13800000000",
                     media_url="http://example.org/p.jpg")
    assert r.status_code == 200, r.get_data(as_text=True)
    created = r.get_json()
    assert len(created) == 1 and created[0]["account_id"] is None and created[0]["service_notice"]
    number, token = created[0]["service_request_id"], created[0]["token"]

    with city.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        assert case.source == "open311" and case.class_code == "E0102"
        assert "resident@example.org" in case.reporter and case.address == "演示路 8 号"
        case_id = case.id

    by_id = client.get(f"{BASE}/requests/{number}.json").get_json()
    assert len(by_id) == 1
    request = by_id[0]
    assert request["status"] == "open" and request["service_code"] == "E0102"
    assert request["description"] == "小区门口垃圾堆 <很多> & 有味"
    assert request["requested_datetime"] == "2026-11-25T09:00:00+08:00"
    # published on the configured grid (OPEN311_ROUND_METRES, 100 m by default): near, not exact
    assert request["lat"] == pytest.approx(lat, abs=0.001) and request["long"] == pytest.approx(lon, abs=0.001)
    assert "核实" in request["status_notes"] and request["agency_responsible"] is None
    assert "token" not in request and "resident@example.org" not in str(request)
    (xml_request,) = xml_items(client.get(f"{BASE}/requests/{number}.xml"), "service_requests", "request")
    assert xml_request["service_request_id"] == number and xml_request["status"] == "open"
    assert xml_request["description"] == request["description"]

    assert client.get(f"{BASE}/tokens/{token}.json").get_json() == [{"service_request_id": number,
                                                                      "token": token}]
    (xml_token,) = xml_items(client.get(f"{BASE}/tokens/{token}.xml"), "service_requests", "request")
    assert xml_token["service_request_id"] == number
    r = client.get(f"{BASE}/tokens/nope.json")
    assert r.status_code == 404 and json_error(r)[0] == 404

    # walk the case through the engine to the department
    driver = CaseDriver(city, EngineContext(clock))
    driver.case_id = case_id
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": DEPT})
    with city.session() as s:
        due = s.scalar(select(TaskRow.due_at).where(TaskRow.case_id == case_id, TaskRow.spec_id == "handle"))
        agency = s.get(Department, DEPT).name
    request = client.get(f"{BASE}/requests/{number}.json").get_json()[0]
    assert request["status"] == "open" and request["agency_responsible"] == agency
    assert request["expected_datetime"] == iso(due, "Asia/Shanghai") and request["expected_datetime"].endswith("+08:00")
    assert "处置" in request["status_notes"]

    clock.advance(timedelta(hours=1))
    driver.do("handle", {"outcome": "done", "result": "已清理"})
    driver.do("check", {"verdict": "passed"})
    driver.do("close", {})
    assert driver.case().status == "closed"
    request = client.get(f"{BASE}/requests/{number}.json").get_json()[0]
    assert request["status"] == "closed" and request["status_notes"] == "问题已处理完毕，案件已结案"
    assert request["agency_responsible"] == agency and request["expected_datetime"] is None
    assert request["updated_datetime"] == "2026-11-25T10:00:00+08:00"
    (xml_request,) = xml_items(client.get(f"{BASE}/requests/{number}.xml"), "service_requests", "request")
    assert xml_request["status"] == "closed" and xml_request["agency_responsible"] == agency

    listed = client.get(f"{BASE}/requests.json", query_string={"status": "closed"}).get_json()
    assert [x["service_request_id"] for x in listed] == [number]
    assert client.get(f"{BASE}/requests.json", query_string={"status": "open"}).get_json() == []


def test_voided_case_is_closed(app, city, clock, api_key):
    client = app.test_client()
    lon, lat = city.city["center"]
    number = post_request(client, api_key=api_key, service_code="E0102", lat=lat,
                          long=lon).get_json()[0]["service_request_id"]
    driver = CaseDriver(city, EngineContext(clock))
    with city.session() as s:
        driver.case_id = s.scalar(select(Case.id).where(Case.number == number))
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "void"})
    driver.do("file", {"decision": "void", "void_reason": "重复上报 / duplicate"})
    status = driver.case().status
    assert status == "voided"
    request = client.get(f"{BASE}/requests/{number}.json").get_json()[0]
    assert request["status"] == "closed"
    assert request["status_notes"] == "经审核不予立案，案件已作废"


# --- requests: errors ---------------------------------------------------------------------------------------

def test_post_needs_a_valid_key(app, city, clock, api_key):
    client = app.test_client()
    lon, lat = city.city["center"]
    fields = {"service_code": "E0102", "lat": lat, "long": lon}
    for fmt in ("json", "xml"):
        r = post_request(client, fmt, **fields)
        assert r.status_code == 403
        code, description = json_error(r) if fmt == "json" else xml_error(r)
        assert code == 403 and "api_key" in description
        r = post_request(client, fmt, api_key="not-a-key", **fields)
        assert r.status_code == 403
    with city.session() as s:
        row, plaintext = create_key(s, "old", clock.now())
        revoke(s, row.id)
    assert post_request(client, api_key=plaintext, **fields).status_code == 403
    with city.session() as s:
        assert s.scalar(select(Case.id)) is None  # nothing was created
    assert post_request(client, api_key=api_key, **fields).status_code == 200


def test_post_validation_errors(app, city, api_key):
    client = app.test_client()
    lon, lat = city.city["center"]
    r = post_request(client, api_key=api_key, lat=lat, long=lon)
    assert r.status_code == 400 and "service_code" in json_error(r)[1]
    r = post_request(client, api_key=api_key, service_code="E9999", lat=lat, long=lon)
    assert r.status_code == 404 and json_error(r)[0] == 404
    r = post_request(client, "xml", api_key=api_key, service_code="E9999", lat=lat, long=lon)
    assert r.status_code == 404 and xml_error(r)[0] == 404
    r = post_request(client, api_key=api_key, service_code="E0102", address_string="演示路 1 号")
    assert r.status_code == 400 and "location required" in json_error(r)[1]
    r = post_request(client, "xml", api_key=api_key, service_code="E0102", address_string="演示路 1 号")
    assert r.status_code == 400 and "location required" in xml_error(r)[1]
    r = post_request(client, api_key=api_key, service_code="E0102", lat="north", long=lon)
    assert r.status_code == 400 and json_error(r)[0] == 400
    r = post_request(client, api_key=api_key, service_code="E0102", lat=10.0, long=10.0)
    assert r.status_code == 400 and "outside" in json_error(r)[1]
    r = post_request(client, api_key=api_key, service_code="E0102", lat=lat, long=lon, description="x" * 3000)
    assert r.status_code == 400
    with city.session() as s:
        assert s.scalar(select(Case.id)) is None


def test_post_is_rate_limited(sqlite_city, clock):
    app = make_app(sqlite_city, clock, RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [post_request(client, service_code="E0102").status_code for _ in range(31)]
    assert statuses[:30] == [403] * 30 and statuses[30] == 429


# --- requests: listing ---------------------------------------------------------------------------------------

def test_list_filters_and_default_window(app, city, clock, api_key):
    client = app.test_client()
    lon, lat = city.city["center"]
    numbers = []
    for code in ("E0102", "E0103", "E0102"):
        r = post_request(client, api_key=api_key, service_code=code, lat=lat, long=lon)
        numbers.append(r.get_json()[0]["service_request_id"])
        clock.advance(timedelta(minutes=10))

    listed = client.get(f"{BASE}/requests.json").get_json()
    assert [x["service_request_id"] for x in listed] == numbers[::-1]  # newest first
    xml_listed = xml_items(client.get(f"{BASE}/requests.xml"), "service_requests", "request")
    assert [x["service_request_id"] for x in xml_listed] == numbers[::-1]
    only = client.get(f"{BASE}/requests.json", query_string={"service_code": "E0103"}).get_json()
    assert [x["service_request_id"] for x in only] == [numbers[1]]
    picked = client.get(f"{BASE}/requests.json",
                        query_string={"service_request_id": f"{numbers[0]},{numbers[2]},99"}).get_json()
    assert sorted(x["service_request_id"] for x in picked) == sorted([numbers[0], numbers[2]])
    window = {"start_date": "2026-11-25T09:05:00+08:00", "end_date": "2026-11-25T09:15:00+08:00"}
    assert [x["service_request_id"] for x in client.get(f"{BASE}/requests.json", query_string=window).get_json()] \
        == [numbers[1]]
    # an unencoded "+" arrives as a space; a date without offset is city time
    r = client.get(f"{BASE}/requests.json?start_date=2026-11-25T09:05:00+08:00&end_date=2026-11-25T09:15:00")
    assert [x["service_request_id"] for x in r.get_json()] == [numbers[1]]

    for params in ({"start_date": "yesterday"}, {"start_date": "2026-01-01T00:00:00Z"},
                   {"start_date": "2026-11-26T00:00:00Z", "end_date": "2026-11-25T00:00:00Z"},
                   {"status": "pending"}):
        r = client.get(f"{BASE}/requests.json", query_string=params)
        assert r.status_code == 400 and json_error(r)[0] == 400, params
    r = client.get(f"{BASE}/requests.xml", query_string={"status": "pending"})
    assert r.status_code == 400 and xml_error(r)[0] == 400
    r = client.get(f"{BASE}/requests/2000010100001.xml")
    assert r.status_code == 404 and xml_error(r)[0] == 404

    clock.advance(timedelta(days=91))
    assert client.get(f"{BASE}/requests.json").get_json() == []  # default: the last 90 days
    assert len(client.get(f"{BASE}/requests.json",
                          query_string={"service_request_id": numbers[0]}).get_json()) == 1


# --- discovery and media -------------------------------------------------------------------------------

def test_discovery_names_the_endpoint_in_both_formats(city, clock):
    app = make_app(city, clock, OPEN311_CONTACT="12319@city.example", OPEN311_KEY_SERVICE="https://city.example/key")
    client = app.test_client()
    found = client.get(f"{BASE}/discovery.json").get_json()
    assert found["contact"] == "12319@city.example" and found["key_service"] == "https://city.example/key"
    (endpoint,) = found["endpoints"]
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    # the advertised endpoint answers
    assert client.get(endpoint["url"].replace("http://localhost", "") + "/services.json").status_code == 200
    tree = ET.fromstring(client.get(f"{BASE}/discovery.xml").data)
    assert tree.tag == "discovery" and tree.findtext("contact") == "12319@city.example"
    assert [f.text for f in tree.find("endpoints").find("endpoint").find("formats")] == endpoint["formats"]


def _post_with_photo(client, city, api_key: str, code: str = "E0102"):
    lon, lat = city.city["center"]
    r = client.post(f"{BASE}/requests.json", content_type="multipart/form-data",
                    data={"api_key": api_key, "service_code": code, "lat": str(lat), "long": str(lon),
                          "description": "井盖破损", "media": (io.BytesIO(jpeg_bytes(gps=True)), "p.jpg")})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()[0]["service_request_id"]


def test_media_url_serves_the_reporters_photo_without_location(app, city, api_key):
    client = app.test_client()
    number = _post_with_photo(client, city, api_key)
    request = client.get(f"{BASE}/requests/{number}.json").get_json()[0]
    assert request["media_url"].startswith("http://localhost/open311/v2/media/")
    photo = client.get(request["media_url"].replace("http://localhost", ""))
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert not Image.open(io.BytesIO(photo.data)).getexif()  # no EXIF, so no GPS of the reporter
    (xml_request,) = xml_items(client.get(f"{BASE}/requests/{number}.xml"), "service_requests", "request")
    assert xml_request["media_url"] == request["media_url"]
    with city.session() as s:
        case_id = s.scalar(select(Case.id).where(Case.number == number))
        assert s.scalar(select(Attachment.stage).where(Attachment.case_id == case_id)) == "report"
    assert client.get(f"{BASE}/media/unknown-token").status_code == 404


def test_media_follows_what_the_city_publishes(city, clock, api_key):
    client = make_app(city, clock, OPEN311_MEDIA="none").test_client()
    number = _post_with_photo(client, city, api_key)
    request = client.get(f"{BASE}/requests/{number}.json").get_json()[0]
    assert request["media_url"] is None
    with city.session() as s:
        token = s.scalar(select(Attachment.token).join(Case, Case.id == Attachment.case_id)
                         .where(Case.number == number))
    assert client.get(f"{BASE}/media/{token}").status_code == 404
    # a class the city does not publish: neither the request nor its photo
    hidden = make_app(city, clock, OPEN311_PUBLIC_CLASSES="E0101").test_client()
    assert hidden.get(f"{BASE}/media/{token}").status_code == 404


def test_a_bad_media_file_is_refused_and_nothing_is_filed(app, city, api_key):
    client = app.test_client()
    lon, lat = city.city["center"]
    with city.session() as s:
        before = s.scalar(select(func.count()).select_from(Case))
    r = client.post(f"{BASE}/requests.json", content_type="multipart/form-data",
                    data={"api_key": api_key, "service_code": "E0102", "lat": str(lat), "long": str(lon),
                          "media": (io.BytesIO(b"not a picture"), "p.jpg")})
    assert r.status_code == 400 and json_error(r)[1].startswith("media:")
    with city.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == before
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0

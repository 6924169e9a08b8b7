"""The bad-input catalogue: hostile and broken input is refused with a status and a message a user can
act on, never a 500, and nothing is written — on SQLite and PostgreSQL.

Each entry: who sends it (None = anonymous), the request, the expected status and a piece of the
message (the field it names, or the advice). "Nothing written" compares the row count of every
table and every case's version before and after.
"""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import Base, Case
from tests.web.webkit import jpeg_bytes, make_app

PASSWORD = "demo1234"
_addresses = itertools.count(1)


@dataclass(frozen=True)
class Bad:
    name: str
    method: str
    path: str
    status: int
    says: str  # part of the message a user sees
    user: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


CENTER = "{lon}", "{lat}"  # replaced by the city's centre

CATALOGUE: tuple[Bad, ...] = (
    # NUL and control characters, everywhere a request carries text (the PostgreSQL 500s of issue 10)
    Bad("NUL in an Open311 query", "GET", "/open311/v2/requests.json?service_request_id=%00", 400,
        "service_request_id"),
    Bad("NUL in an Open311 service path", "GET", "/open311/v2/services/%00.json", 400, "code"),
    Bad("NUL in an Open311 token path", "GET", "/open311/v2/tokens/%00.json", 400, "token"),
    Bad("NUL in a follow-up link", "GET", "/follow/%00abcdefghijklmnopqrstuvwxyz", 400, "token"),
    Bad("NUL in an attachment token", "GET", "/attachments/%00", 400, "token"),
    Bad("NUL in the API user name", "POST", "/api/v1/login", 400, "username",
        kwargs={"json": {"username": "acceptor1\x00", "password": PASSWORD}}),
    Bad("NUL in a case number", "GET", "/api/v1/cases/%00", 400, "number", user="acceptor1"),
    Bad("NUL in a task id", "GET", "/api/v1/tasks/%00", 400, "task_id", user="acceptor1"),
    Bad("NUL in a task filter", "GET", "/api/v1/tasks?class=%00", 400, "class", user="acceptor1"),
    Bad("NUL in a case page", "GET", "/cases/%00", 400, "number", user="acceptor1"),
    Bad("bell character in a JSON description", "POST", "/api/v1/cases", 400, "description", user="acceptor1",
        kwargs={"json": {"source": "hotline", "class_code": "E0102", "lon": CENTER[0], "lat": CENTER[1],
                         "description": "ring\x07"}}),
    Bad("escape character in a form field", "POST", "/report/public", 400, "description",
        kwargs={"data": {"class_code": "E0102", "lon": CENTER[0], "lat": CENTER[1], "description": "a\x1b[31m"}}),
    Bad("control character in a JSON key", "POST", "/api/v1/cases", 400, "a?b", user="acceptor1",
        kwargs={"json": {"a\x01b": 1}}),
    # invalid Unicode
    Bad("lone surrogate in JSON", "POST", "/api/v1/cases", 400, "JSON", user="acceptor1",
        kwargs={"data": b'{"source":"hotline","description":"\\ud800"}', "content_type": "application/json"}),
    Bad("invalid UTF-8 in JSON", "POST", "/api/v1/cases", 400, "JSON", user="acceptor1",
        kwargs={"data": b'{"description":"\xff\xfe"}', "content_type": "application/json"}),
    Bad("invalid UTF-8 in a query", "GET", "/api/v1/tasks?class=%FF", 400, "UTF-8", user="acceptor1"),
    Bad("invalid UTF-8 in a form", "POST", "/report/public", 400, "UTF-8",
        kwargs={"data": b"description=%FF%FE", "content_type": "application/x-www-form-urlencoded"}),
    # malformed and hostile JSON
    Bad("JSON nested 100 deep", "POST", "/api/v1/cases", 400, "嵌套", user="acceptor1",
        kwargs={"data": _nested(100), "content_type": "application/json"}),
    Bad("JSON nested 100,000 deep", "POST", "/api/v1/cases", 400, "JSON", user="acceptor1",
        kwargs={"data": b"[" * 100_000 + b"]" * 100_000, "content_type": "application/json"}),
    Bad("oversized JSON", "POST", "/api/v1/cases", 400, "过大", user="acceptor1",
        kwargs={"json": {"source": "hotline", "description": "x" * 300_000}}),
    Bad("truncated JSON", "POST", "/api/v1/cases", 400, "JSON", user="acceptor1",
        kwargs={"data": b'{"source": "hot', "content_type": "application/json"}),
    Bad("JSON array instead of an object", "POST", "/api/v1/cases", 400, "object", user="acceptor1",
        kwargs={"json": [1, 2]}),
    Bad("form post to the JSON API", "POST", "/api/v1/cases", 415, "application/json", user="acceptor1",
        kwargs={"data": {"source": "hotline"}}),
    # types and lengths of URL parameters
    Bad("limit not a number", "GET", "/api/v1/tasks?limit=abc", 400, "limit", user="acceptor1"),
    Bad("limit out of range", "GET", "/api/v1/tasks?limit=100000", 400, "limit", user="acceptor1"),
    Bad("a very long query value", "GET", "/api/v1/tasks?scope=" + "a" * 5000, 400, "scope", user="acceptor1"),
    Bad("a very long case number", "GET", "/api/v1/cases/" + "9" * 500, 404, "number", user="acceptor1"),
    Bad("path traversal as an attachment", "GET", "/attachments/..%2F..%2Fetc%2Fpasswd", 404, "", user="acceptor1"),
    Bad("SQL injection in a case number", "GET", "/api/v1/cases/1'%20OR%20'1'='1", 404, "number",
        user="acceptor1"),
    Bad("SQL injection in a filter", "GET", "/api/v1/tasks?class=E01'%20OR%201=1--", 400, "class",
        user="acceptor1"),
    Bad("bad Open311 date", "GET", "/open311/v2/requests.json?start_date=yesterday", 400, "start_date"),
    # the engine's own checks
    Bad("unknown class", "POST", "/api/v1/cases", 400, "class_code", user="acceptor1",
        kwargs={"json": {"source": "hotline", "class_code": "E9999", "lon": CENTER[0], "lat": CENTER[1]}}),
    Bad("a point outside the city", "POST", "/api/v1/cases", 400, "lon", user="acceptor1",
        kwargs={"json": {"source": "hotline", "class_code": "E0102", "lon": 2.35, "lat": 48.85}}),
    Bad("a version that is not a number", "POST", "/api/v1/tasks/x/complete", 400, "version", user="acceptor1",
        kwargs={"json": {"data": {}, "version": "abc"}}),
    Bad("a completion without a version", "POST", "/api/v1/tasks/x/complete", 400, "version", user="acceptor1",
        kwargs={"json": {"data": {}}}),
    # who may do what
    Bad("anonymous API call", "GET", "/api/v1/tasks", 401, "sign in"),
    Bad("wrong role reports", "POST", "/api/v1/cases", 403, "supervisor", user="handler_sanitation_330191",
        kwargs={"json": {"source": "hotline"}}),
    Bad("Open311 post without a key", "POST", "/open311/v2/requests.json", 403, "api_key",
        kwargs={"data": {"service_code": "E0102", "lat": CENTER[1], "long": CENTER[0]}}),
    # uploads
    Bad("a text file as a photo", "POST", "/report/public", 400, "",
        kwargs={"data": {"class_code": "E0102", "lon": CENTER[0], "lat": CENTER[1], "description": "x",
                         "photos__files": (b"not an image", "x.jpg")}}),
    Bad("a photo under a traversal name with an unknown class", "POST", "/report/public", 400, "",
        kwargs={"data": {"class_code": "E9999", "lon": CENTER[0], "lat": CENTER[1], "description": "x",
                         "photos__files": (jpeg_bytes(), "../../etc/passwd.jpg")}}),
)


def _snapshot(db) -> dict[str, Any]:
    with db.session() as s:
        counts = {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
        counts["case versions"] = list(s.execute(select(Case.id, Case.version).order_by(Case.id)))
        return counts


def _fill(value: Any, lon: float, lat: float) -> Any:
    if value == "{lon}":
        return lon
    if value == "{lat}":
        return lat
    if isinstance(value, dict):
        return {k: _fill(v, lon, lat) for k, v in value.items()}
    if isinstance(value, tuple):  # (content, file name): a fresh stream for each run
        return io.BytesIO(value[0]), value[1]
    return value


@pytest.fixture
def catalogue_app(city, clock):
    app = make_app(city, clock)
    yield app
    app.extensions["citycase"].engine.dispose()


def _client(app, user: str | None):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.77.{next(_addresses) % 250}.{next(_addresses) % 250}"
    if user is not None:
        r = client.post("/api/v1/login", json={"username": user, "password": PASSWORD})
        assert r.status_code == 200, r.get_json()
    return client


def test_every_bad_input_is_refused_with_advice_and_nothing_written(catalogue_app, city):
    lon, lat = city.city["center"]
    failures = []
    for bad in CATALOGUE:
        client = _client(catalogue_app, bad.user)
        kwargs = {k: _fill(v, lon, lat) for k, v in bad.kwargs.items()}
        before = _snapshot(city)
        response = client.open(bad.path, method=bad.method, **kwargs)
        text = json.dumps(response.get_json(), ensure_ascii=False) if response.is_json \
            else response.get_data(as_text=True)
        if response.status_code != bad.status or bad.says.lower() not in text.lower():
            failures.append(f"{bad.name}: {response.status_code} {text[:300]!r}")
        elif _snapshot(city) != before:
            failures.append(f"{bad.name}: a table changed")
    assert failures == []


def test_an_unsupported_method_is_a_405_that_says_which_are_allowed(catalogue_app):
    client = _client(catalogue_app, "acceptor1")
    for path in ("/api/v1/tasks", "/inbox", "/open311/v2/services.json"):
        response = client.open(path, method="TRACE")
        assert response.status_code == 405
        assert "GET" in response.headers.get("Allow", ""), path


def test_bad_input_about_a_real_case_is_refused_and_changes_nothing(city, clock):
    """Wrong department and district, a replayed completion, a missing CSRF token, an oversized photo."""
    from engine.model import EngineContext
    from tests.factories import CaseDriver
    from tests.web.webkit import task

    driver = CaseDriver(city, EngineContext(clock))
    driver.start()
    for spec, data in (("verify", {"verdict": "confirmed"}), ("accept", {"decision": "file"}),
                       ("file", {"decision": "file"}), ("dispatch", {"department": "sanitation@330191"})):
        driver.do(spec, data)
    handle = task(city, driver.case_id, "handle")
    number = driver.case().number
    app = make_app(city, clock, UPLOAD_MAX_BYTES=2048)
    other_handler = _client(app, "handler_sanitation_330192")
    other_supervisor = _client(app, "supervisor3")  # patrols 330192; the case is in 330191
    handler = _client(app, "handler_sanitation_330191")
    version = handler.get(f"/api/v1/tasks/{handle.id}").get_json()["version"]
    body = {"data": {"outcome": "done", "result": "已清理"}, "version": version}

    before = _snapshot(city)
    checks = [
        (other_handler.get(f"/api/v1/cases/{number}"), 403),
        (other_handler.post(f"/api/v1/tasks/{handle.id}/complete", json=body), 403),
        (other_supervisor.get(f"/cases/{number}"), 403),
        (handler.post(f"/api/v1/tasks/{handle.id}/complete", json={**body, "version": version - 1}), 409),
        (handler.post("/attachments", data={"file": (io.BytesIO(jpeg_bytes((2000, 2000))), "big.jpg")},
                      content_type="multipart/form-data"), 400),
    ]
    for response, status in checks:
        assert response.status_code == status, response.get_data(as_text=True)[:300]
        assert response.get_data(as_text=True).strip()  # a message, not an empty body
    assert _snapshot(city) == before

    assert handler.post(f"/api/v1/tasks/{handle.id}/complete", json=body).status_code == 200
    after_first = _snapshot(city)
    replayed = handler.post(f"/api/v1/tasks/{handle.id}/complete", json=body)  # the same request again
    assert replayed.status_code in (404, 409) and replayed.get_json()["error"]
    assert _snapshot(city) == after_first

    guarded = make_app(city, clock, WTF_CSRF_ENABLED=True)
    page = _client(guarded, None).post("/report/public", data={"class_code": "E0102", "description": "x"})
    assert page.status_code == 400 and "刷新" in page.get_data(as_text=True)  # "go back, reload and try again"
    assert _snapshot(city) == after_first

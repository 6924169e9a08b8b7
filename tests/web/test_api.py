"""The staff JSON API: sign-in, every role's allowed and forbidden calls, pagination, OpenAPI conformance."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec

from engine.model import EngineContext
from tests.factories import CaseDriver, report
from tests.web.apikit import make_app

OPENAPI = Path(__file__).resolve().parents[2] / "web" / "api" / "openapi.yaml"
PASSWORD = "demo1234"
DEPT = "sanitation@330191"
OTHER_DEPT = "sanitation@330192"


# --- helpers ---------------------------------------------------------------------------------------

@cache
def spec() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """Inline every local $ref (the document has no recursive schemas)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(target, root)
        return {k: _resolve(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, root) for v in node]
    return node


def conforms(response, path: str, method: str) -> Any:
    """Check a test-client response against the OpenAPI response schema of (path, method, status)."""
    doc = spec()
    operation = doc["paths"][path][method]
    declared = operation["responses"]
    assert str(response.status_code) in declared, \
        f"{method.upper()} {path} answered {response.status_code}, not declared in openapi.yaml"
    entry = _resolve(declared[str(response.status_code)], doc)
    content = entry["content"]
    mimetype = response.mimetype
    assert mimetype in content, f"{mimetype} not declared for {method.upper()} {path} {response.status_code}"
    if mimetype == "application/json":
        OAS30Validator(content[mimetype]["schema"]).validate(response.get_json())
    return response.get_json() if response.is_json else response.data


_addresses = itertools.count(1)


def sign_in(app, username: str):
    # Each user signs in from an address of their own (sign-in is rate-limited per address).
    n = next(_addresses)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    r = client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    conforms(r, "/login", "post")
    return client


def task_ids(client, **params: Any) -> list[str]:
    r = client.get("/api/v1/tasks", query_string=params)
    assert r.status_code == 200, r.get_json()
    conforms(r, "/tasks", "get")
    return [t["id"] for t in r.get_json()["tasks"]]


def only_task(client, spec_id: str, **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/tasks", query_string=params)
    tasks = [t for t in r.get_json()["tasks"] if t["spec_id"] == spec_id]
    assert len(tasks) == 1, r.get_json()
    return tasks[0]


def complete(client, task_id: str, data: dict[str, Any], version: int | None = None):
    """Complete with ``version``, or with the version the task's page shows now."""
    if version is None:
        detail = client.get(f"/api/v1/tasks/{task_id}")
        version = detail.get_json()["version"] if detail.status_code == 200 else 1
    body: dict[str, Any] = {"data": data, "version": version}
    r = client.post(f"/api/v1/tasks/{task_id}/complete", json=body)
    conforms(r, "/tasks/{task_id}/complete", "post")
    return r


# --- the OpenAPI document ------------------------------------------------------------------------------

def test_openapi_file_is_valid_and_covers_every_route(sqlite_city, clock):
    validate_spec(spec())
    app = make_app(sqlite_city, clock)
    served = app.test_client().get("/api/v1/openapi.yaml")
    assert served.status_code == 200 and served.data == OPENAPI.read_bytes()
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    documented = {(p, m) for p, ops in spec()["paths"].items() for m in ops if m != "parameters"}
    assert routes == documented


# --- session ---------------------------------------------------------------------------------------------

def test_signed_out_calls_get_401(app):
    client = app.test_client()
    for method, path, template in (("get", "/api/v1/tasks", "/tasks"), ("get", "/api/v1/me", "/me"),
                                   ("get", "/api/v1/tasks/x", "/tasks/{task_id}"),
                                   ("get", "/api/v1/cases/2026112500001", "/cases/{number}")):
        r = getattr(client, method)(path)
        assert r.status_code == 401
        conforms(r, template, method)
    r = client.post("/api/v1/cases", json={})
    assert r.status_code == 401 and "error" in r.get_json()


def test_login_logout(app):
    client = app.test_client()
    r = client.post("/api/v1/login", json={"username": "acceptor1", "password": "wrong"})
    assert r.status_code == 401
    conforms(r, "/login", "post")
    r = client.post("/api/v1/login", data={"username": "acceptor1", "password": PASSWORD})
    assert r.status_code == 415  # form posts are refused: the API's CSRF defence
    conforms(r, "/login", "post")
    r = client.post("/api/v1/login", json={"username": "acceptor1"})
    assert r.status_code == 400 and "password" in r.get_json()["fields"]
    r = client.post("/api/v1/login", json={"username": "acceptor1", "password": PASSWORD})
    assert conforms(r, "/login", "post")["user"]["role"] == "acceptor"
    r = client.get("/api/v1/me")
    assert conforms(r, "/me", "get")["user"]["username"] == "acceptor1"
    r = client.post("/api/v1/logout")
    assert r.status_code == 415  # even an empty POST must say application/json
    r = client.post("/api/v1/logout", json={})
    assert conforms(r, "/logout", "post") == {"signed_out": True}
    assert client.get("/api/v1/me").status_code == 401


def test_login_is_rate_limited(sqlite_city, clock):
    app = make_app(sqlite_city, clock, RATELIMIT_ENABLED=True)
    client = app.test_client()
    # a different account each time: this is the per-address limit (per account: test_sessions.py)
    statuses = [client.post("/api/v1/login", json={"username": f"nobody{i}", "password": "x"}).status_code
                for i in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    assert "error" in client.post("/api/v1/login", json={}).get_json()


def test_post_needs_json_content_type(app):
    client = sign_in(app, "acceptor1")
    r = client.post("/api/v1/cases", data={"source": "hotline"})
    assert r.status_code == 415
    conforms(r, "/cases", "post")


# --- the whole lifecycle through the API, with each role's forbidden calls ------------------------------------

def test_case_walk_through_with_role_checks(app, city):
    lon, lat = city.city["center"]
    acceptor = sign_in(app, "acceptor1")
    r = acceptor.post("/api/v1/cases", json={"source": "hotline", "class_code": "E0102", "lon": lon,
                                             "lat": lat, "description": "热线：路边垃圾", "address": "演示路 1 号"})
    assert r.status_code == 201, r.get_json()
    created = conforms(r, "/cases", "post")
    number = created["number"]
    assert r.headers["Location"].endswith(f"/api/v1/cases/{number}")

    # verify — supervisors of the case's district only
    sup1, sup2, sup3 = (sign_in(app, u) for u in ("supervisor1", "supervisor2", "supervisor3"))
    verify = only_task(sup1, "verify")
    assert verify["district_code"] == "330191" and verify["light"] == "green"
    assert verify["id"] not in task_ids(sup3)  # supervisor3 patrols 330192
    r = sup3.get(f"/api/v1/tasks/{verify['id']}")
    assert r.status_code == 403
    conforms(r, "/tasks/{task_id}", "get")
    assert sup3.post(f"/api/v1/tasks/{verify['id']}/claim", json={}).status_code == 403
    assert complete(acceptor, verify["id"], {"verdict": "confirmed"}).status_code == 403
    r = sup1.get(f"/api/v1/tasks/{verify['id']}")
    detail = conforms(r, "/tasks/{task_id}", "get")
    assert detail["case"]["number"] == number and detail["task"]["spec_id"] == "verify"
    verdict = next(f for f in detail["form"]["fields"] if f["key"] == "verdict")
    assert {"confirmed", "not_found"} <= {v["value"] for v in verdict["values"]}
    r = sup1.post(f"/api/v1/tasks/{verify['id']}/claim", json={})
    assert conforms(r, "/tasks/{task_id}/claim", "post") == {"task_id": verify["id"], "assignee": "supervisor1"}
    assert verify["id"] not in task_ids(sup2)  # claimed by someone else: not in sup2's inbox
    assert complete(sup2, verify["id"], {"verdict": "confirmed"}).status_code == 403
    r = sup2.post(f"/api/v1/tasks/{verify['id']}/release", json={})
    assert r.status_code == 403
    conforms(r, "/tasks/{task_id}/release", "post")
    assert task_ids(sup1, scope="mine") == [verify["id"]]
    assert complete(sup1, verify["id"], {"verdict": "maybe"}).status_code == 400
    r = complete(sup1, verify["id"], {"verdict": "confirmed"}, version=detail["version"] - 1)
    assert r.status_code == 409
    r = complete(sup1, verify["id"], {"verdict": "confirmed"}, version=detail["version"])
    assert r.status_code == 200 and r.get_json()["status"] == "open"
    r = complete(sup1, verify["id"], {"verdict": "confirmed"})
    assert r.status_code == 409  # already completed

    # accept (acceptor), file (shift leader) — not for the dispatcher
    dispatcher = sign_in(app, "dispatcher1")
    accept = only_task(acceptor, "accept")
    assert accept["id"] not in task_ids(dispatcher)
    assert dispatcher.get(f"/api/v1/tasks/{accept['id']}").status_code == 403
    assert complete(dispatcher, accept["id"], {"decision": "file"}).status_code == 403
    assert complete(acceptor, accept["id"], {"decision": "file"}).status_code == 200
    shift = sign_in(app, "shiftleader1")
    assert complete(shift, only_task(shift, "file")["id"], {"decision": "file"}).status_code == 200

    # dispatch: choices resolved from the departments; a wrong department is a field error
    dispatch = only_task(dispatcher, "dispatch")
    detail = conforms(dispatcher.get(f"/api/v1/tasks/{dispatch['id']}"), "/tasks/{task_id}", "get")
    department = next(f for f in detail["form"]["fields"] if f["key"] == "department")
    assert department["values_key"] == "department_options"
    assert DEPT in {v["value"] for v in department["values"]}
    assert detail["data"].get("suggested_department") in (None, DEPT)
    r = complete(dispatcher, dispatch["id"], {"department": "nowhere"})
    assert r.status_code == 400 and "department" in r.get_json()["fields"]
    r = complete(dispatcher, dispatch["id"], {"department": DEPT, "surprise": 1})
    assert r.status_code == 400 and "surprise" in r.get_json()["fields"]
    assert complete(dispatcher, dispatch["id"], {"department": DEPT}).status_code == 200

    # handle: the department's handlers only
    handler = sign_in(app, f"handler_{DEPT.replace('@', '_')}")
    other_handler = sign_in(app, f"handler_{OTHER_DEPT.replace('@', '_')}")
    handle = only_task(handler, "handle", scope="group")
    assert handle["department_code"] == DEPT and handle["due_at"]
    assert handle["id"] not in task_ids(other_handler)
    assert other_handler.post(f"/api/v1/tasks/{handle['id']}/claim", json={}).status_code == 403
    assert complete(other_handler, handle["id"], {"outcome": "done", "result": "x"}).status_code == 403
    r = other_handler.get(f"/api/v1/cases/{number}")
    assert r.status_code == 403
    conforms(r, "/cases/{number}", "get")
    assert handler.post(f"/api/v1/tasks/{handle['id']}/claim", json={}).status_code == 200
    assert task_ids(handler, scope="group") == [] and task_ids(handler, scope="mine") == [handle["id"]]
    r = handler.post(f"/api/v1/tasks/{handle['id']}/release", json={})
    assert conforms(r, "/tasks/{task_id}/release", "post")["assignee"] is None
    assert conforms(handler.get(f"/api/v1/cases/{number}"), "/cases/{number}", "get")["case"]["department_code"] \
        == DEPT

    # supervision orders: leaders of the responsible department (or city-wide) only
    order = {"level": "order", "text": "请尽快处置"}
    r = dispatcher.post(f"/api/v1/cases/{number}/supervise", json=order)
    assert r.status_code == 403
    conforms(r, "/cases/{number}/supervise", "post")
    other_leader = sign_in(app, f"leader_{OTHER_DEPT.replace('@', '_')}")
    assert other_leader.post(f"/api/v1/cases/{number}/supervise", json=order).status_code == 403
    leader = sign_in(app, f"leader_{DEPT.replace('@', '_')}")
    r = leader.post(f"/api/v1/cases/{number}/supervise", json={"level": "shout", "text": "x"})
    assert r.status_code == 400
    r = leader.post(f"/api/v1/cases/{number}/supervise", json=order)
    assert conforms(r, "/cases/{number}/supervise", "post")["status"] == "open"
    assert leader.post("/api/v1/cases/2000010100001/supervise", json=order).status_code == 404

    handle = only_task(handler, "handle")
    assert complete(handler, handle["id"], {"outcome": "done", "result": "已清理"}).status_code == 200
    assert complete(sup1, only_task(sup1, "check")["id"], {"verdict": "passed"}).status_code == 200
    r = complete(shift, only_task(shift, "close")["id"], {})
    assert r.status_code == 200 and r.get_json()["status"] == "closed"

    # reading the closed case
    auditor = sign_in(app, "auditor1")
    case = conforms(auditor.get(f"/api/v1/cases/{number}"), "/cases/{number}", "get")
    assert case["case"]["status"] == "closed" and case["case"]["closed_at"]
    assert [t["spec_id"] for t in case["tasks"]] == ["Followup_callback"]  # a citizen's case: 回访 follows
    kinds = [e["kind"] for e in case["history"]]
    assert kinds[0] == "start" and "claim" in kinds and "release" in kinds and "message" in kinds
    assert [e["task_spec"] for e in case["history"] if e["kind"] == "complete"] == \
        ["verify", "accept", "file", "dispatch", "handle", "check", "close"]
    assert case["data"].get("department") == DEPT
    assert "public_token" not in case["case"]
    designer = sign_in(app, "designer1")
    assert designer.get(f"/api/v1/cases/{number}").status_code == 403
    assert sup3.get(f"/api/v1/cases/{number}").status_code == 403
    assert sup1.get(f"/api/v1/cases/{number}").status_code == 200
    r = auditor.get("/api/v1/cases/2000010100001")
    assert r.status_code == 404
    conforms(r, "/cases/{number}", "get")
    r = auditor.get("/api/v1/tasks")
    assert r.status_code == 403  # auditors have no inbox
    conforms(r, "/tasks", "get")
    r = handler.get(f"/api/v1/tasks/{handle['id']}")
    assert r.status_code == 404  # completed tasks leave the task table
    conforms(r, "/tasks/{task_id}", "get")


def test_who_may_start_a_case(app, city):
    body = report(city.city)
    body.pop("source")
    supervisor = sign_in(app, "supervisor1")
    r = supervisor.post("/api/v1/cases", json=body)
    assert r.status_code == 201
    created = conforms(r, "/cases", "post")
    case = conforms(supervisor.get(f"/api/v1/cases/{created['number']}"), "/cases/{number}", "get")
    assert case["case"]["source"] == "supervisor" and case["case"]["reporter"] == "supervisor1"
    r = supervisor.post("/api/v1/cases", json={**body, "source": "citizen"})
    assert r.status_code == 403
    conforms(r, "/cases", "post")
    for username in (f"handler_{DEPT.replace('@', '_')}", "dispatcher1", "auditor1", "admin1"):
        r = sign_in(app, username).post("/api/v1/cases", json={**body, "source": "hotline"})
        assert r.status_code == 403, username
    acceptor = sign_in(app, "acceptor1")
    r = acceptor.post("/api/v1/cases", json={**body, "source": "supervisor"})
    assert r.status_code == 400 and "source" in r.get_json()["fields"]
    r = acceptor.post("/api/v1/cases", json={**body, "source": "hotline", "self_handled": True})
    assert r.status_code == 403
    r = acceptor.post("/api/v1/cases", json={**body, "source": "hotline", "class_code": "E9999"})
    assert r.status_code == 400 and "class_code" in conforms(r, "/cases", "post")["fields"]
    r = acceptor.post("/api/v1/cases", json={**body, "source": "hotline", "lon": 10.0, "lat": 10.0})
    assert r.status_code == 400
    r = acceptor.post("/api/v1/cases", json=[1, 2])
    assert r.status_code == 400
    shift = sign_in(app, "shiftleader1")
    assert shift.post("/api/v1/cases", json={**body, "source": "camera"}).status_code == 201


# --- the inbox: keyset pages, filters, lights ------------------------------------------------------------

def test_task_pages_filters_and_lights(sqlite_city, clock):
    app = make_app(sqlite_city, clock)
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    for i in range(7):
        driver.start(class_code="E0103" if i == 3 else "E0102")
        clock.advance(timedelta(minutes=7))
    supervisor = sign_in(app, "supervisor1")
    full = conforms(supervisor.get("/api/v1/tasks"), "/tasks", "get")
    assert full["next"] is None and len(full["tasks"]) == 7
    dues = [t["due_at"] for t in full["tasks"]]
    assert dues == sorted(dues)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if after:
            params["after"] = after
        page = conforms(supervisor.get("/api/v1/tasks", query_string=params), "/tasks", "get")
        pages += 1
        seen += [t["id"] for t in page["tasks"]]
        after = page["next"]
        if after is None:
            break
    assert pages == 3 and seen == [t["id"] for t in full["tasks"]]

    assert len(task_ids(supervisor, **{"class": "E0103"})) == 1
    assert task_ids(supervisor, district="330192") == []
    assert task_ids(sign_in(app, "supervisor3")) == []

    # move time so that some tasks are past their warning time and some overdue
    first = full["tasks"][0]
    from datetime import datetime

    clock.set(datetime.fromisoformat(first["due_at"]) + timedelta(minutes=1))
    lights = {c: task_ids(supervisor, light=c) for c in ("green", "yellow", "red")}
    assert sum(len(v) for v in lights.values()) == 7
    assert first["id"] in lights["red"] and lights["yellow"]
    listed = conforms(supervisor.get("/api/v1/tasks"), "/tasks", "get")["tasks"]
    for task in listed:
        assert task["id"] in lights[task["light"]]

    for params in ({"after": "not-a-cursor"}, {"light": "blue"}, {"limit": 0}, {"limit": 999},
                   {"scope": "everyone"}):
        r = supervisor.get("/api/v1/tasks", query_string=params)
        assert r.status_code == 400, params
        conforms(r, "/tasks", "get")


# --- the admin page for Open311 keys (CSRF-protected) ---------------------------------------------------------

def _with_admin_page(app):
    from web.api import admin_bp

    if admin_bp.name not in app.blueprints:  # until create_app registers it
        app.register_blueprint(admin_bp)
    return app


def test_admin_key_page(sqlite_city, clock):
    import re as regex

    from engine.apikeys import verify_key

    app = _with_admin_page(make_app(sqlite_city, clock, WTF_CSRF_ENABLED=True))
    dispatcher = sign_in(app, "dispatcher1")
    assert dispatcher.get("/admin/apikeys").status_code == 403
    assert app.test_client().get("/admin/apikeys").status_code in (302, 401)

    admin = sign_in(app, "admin1")
    page = admin.get("/admin/apikeys")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    token = regex.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert admin.post("/admin/apikeys", data={"name": "no token"}).status_code == 400  # CSRF refused
    r = admin.post("/admin/apikeys", data={"name": "fixmystreet", "csrf_token": token})
    assert r.status_code == 200
    key = regex.search(r"<code>([^<]+)</code>", r.get_data(as_text=True)).group(1)
    with sqlite_city.session() as s:
        row = verify_key(s, key)
        assert row is not None and row.name == "fixmystreet"
        key_id = row.id
    assert key not in admin.get("/admin/apikeys").get_data(as_text=True)  # shown once
    assert admin.post("/admin/apikeys", data={"name": " ", "csrf_token": token}).status_code == 400
    assert dispatcher.post(f"/admin/apikeys/{key_id}/revoke", data={"csrf_token": token}).status_code in (400, 403)
    r = admin.post(f"/admin/apikeys/{key_id}/revoke", data={"csrf_token": token})
    assert r.status_code == 302
    with sqlite_city.session() as s:
        assert verify_key(s, key) is None
    assert admin.post("/admin/apikeys/999/revoke", data={"csrf_token": token}).status_code == 404

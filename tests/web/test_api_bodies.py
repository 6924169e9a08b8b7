"""The JSON API's request bodies: wrong shapes are a 400 with the documented {error, fields} body
and change nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.model import EngineContext
from engine.models import Event
from tests.factories import CaseDriver
from tests.web.apikit import make_app
from tests.web.test_api import conforms, sign_in


def _events(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Event))


def test_bad_bodies_are_400_with_fields(sqlite_city, clock):
    app = make_app(sqlite_city, clock)
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    driver.start()
    sup = sign_in(app, "supervisor1")
    verify = conforms(sup.get("/api/v1/tasks"), "/tasks", "get")["tasks"][0]
    number = conforms(sup.get(f"/api/v1/tasks/{verify['id']}"), "/tasks/{task_id}", "get")["case"]["number"]
    before = _events(sqlite_city)

    cases = [
        ({"data": ["confirmed"]}, {"data", "version"}),  # version is required (issue 10)
        ({"data": {"verdict": "confirmed"}, "version": "3"}, {"version"}),
        ({"data": {"verdict": "confirmed"}, "version": True}, {"version"}),
        ({"data": {}, "note": "hi"}, {"note", "version"}),
    ]
    for body, fields in cases:
        r = sup.post(f"/api/v1/tasks/{verify['id']}/complete", json=body)
        assert r.status_code == 400, body
        assert set(conforms(r, "/tasks/{task_id}/complete", "post")["fields"]) == fields, body

    leader = sign_in(app, "leader1")
    for body, fields in (({"level": "order"}, {"text"}), ({"level": 1, "text": "x"}, {"level"}), ({}, {"level", "text"})):
        r = leader.post(f"/api/v1/cases/{number}/supervise", json=body)
        assert r.status_code == 400, body
        assert set(conforms(r, "/cases/{number}/supervise", "post")["fields"]) == fields, body
    r = leader.post("/api/v1/cases/2000010100001/supervise", json={})
    assert r.status_code == 404  # an unknown case before a bad body

    client = app.test_client()
    for body, fields in (({"username": "supervisor1", "password": 5}, {"password"}), ({}, {"username", "password"}),
                         ({"username": "", "password": "x"}, {"username"})):
        r = client.post("/api/v1/login", json=body)
        assert r.status_code == 400, body
        assert set(conforms(r, "/login", "post")["fields"]) == fields, body

    for params, field in (({"limit": "many"}, "limit"), ({"scope": "all", "light": "blue"}, "light"),
                          ({"after": "AAAA"}, "after")):
        r = sup.get("/api/v1/tasks", query_string=params)
        assert r.status_code == 400 and field in conforms(r, "/tasks", "get")["fields"], params
    assert _events(sqlite_city) == before

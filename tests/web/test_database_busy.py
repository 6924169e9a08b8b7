"""A request whose transaction lost only the database lock runs again; one that lost a version check does not."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from engine.models import Case
from tests.web.apikit import make_app
from web.extensions import LOCK_ATTEMPTS


def _locked(*_args, **_kwargs):
    raise OperationalError("INSERT …", {}, Exception("database is locked"))


def _cases(db) -> int:
    with db.factory() as s:
        return s.scalar(select(func.count()).select_from(Case))


def _public_report(app, db):
    lon, lat = db.city["center"]
    return app.test_client().post("/report/public", data={"class_code": "E0102", "lon": lon, "lat": lat,
                                                          "description": "垃圾"})


def test_a_report_that_lost_the_lock_once_is_run_again_and_saved(sqlite_city, clock, monkeypatch):
    app = make_app(sqlite_city, clock)
    import web.report.views as views

    real, calls = views.start_case, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            _locked()
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "start_case", flaky)
    before = _cases(sqlite_city)
    response = _public_report(app, sqlite_city)
    assert response.status_code == 201
    assert len(calls) == 2 and _cases(sqlite_city) == before + 1


def test_a_database_that_stays_locked_is_a_503_with_advice_and_nothing_saved(sqlite_city, clock, monkeypatch):
    app = make_app(sqlite_city, clock)
    import web.api.json_api as api
    import web.report.views as views

    calls = []
    monkeypatch.setattr(views, "start_case", lambda *a, **k: calls.append(1) or _locked())
    before = _cases(sqlite_city)
    response = _public_report(app, sqlite_city)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "稍后重试" in response.get_data(as_text=True)  # "please try again in a moment" (zh by default)
    assert len(calls) == LOCK_ATTEMPTS and _cases(sqlite_city) == before

    monkeypatch.setattr(api, "start_case", _locked)
    client = app.test_client()
    assert client.post("/api/v1/login", json={"username": "acceptor1", "password": "demo1234"}).status_code == 200
    lon, lat = sqlite_city.city["center"]
    r = client.post("/api/v1/cases", json={"source": "hotline", "class_code": "E0102", "lon": lon, "lat": lat})
    assert r.status_code == 503
    assert set(r.get_json()) == {"error", "fields"} and "稍后重试" in r.get_json()["error"]


def test_a_lost_version_check_is_not_retried(sqlite_city, clock, monkeypatch):
    from engine.errors import Conflict

    app = make_app(sqlite_city, clock)
    import web.api.json_api as api

    calls = []

    def conflict(*_a, **_k):
        calls.append(1)
        raise Conflict("the case changed since you opened it")

    monkeypatch.setattr(api, "start_case", conflict)
    client = app.test_client()
    assert client.post("/api/v1/login", json={"username": "acceptor1", "password": "demo1234"}).status_code == 200
    lon, lat = sqlite_city.city["center"]
    r = client.post("/api/v1/cases", json={"source": "hotline", "class_code": "E0102", "lon": lon, "lat": lat})
    assert r.status_code == 409 and len(calls) == 1
    assert r.get_json() == {"error": "the case changed since you opened it", "fields": {}}

"""Sessions that end: logout, disabling and a role change end every session of the user; absolute
timeout; sign-in throttled per account; the password policy; the Secure cookie over HTTPS."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import ValidationError
from engine.models import User
from engine.sessions import password_problems, set_password
from tests.web.apikit import make_app

PASSWORD = "demo1234"
_addresses = itertools.count(1)


def _client(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.55.{next(_addresses) % 250}.{next(_addresses) % 250}"
    return client


def _signed_in(app, username: str):
    client = _client(app)
    r = client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return client


def _replay(app, cookie: str):
    """A new client that presents a session cookie saved earlier."""
    client = _client(app)
    client.set_cookie("session", cookie)
    return client


@pytest.fixture
def session_app(city, clock):
    app = make_app(city, clock)
    yield app
    app.extensions["citycase"].engine.dispose()


def test_a_cookie_saved_before_logout_opens_nothing(session_app):
    admin = _signed_in(session_app, "admin1")
    saved = admin.get_cookie("session").value
    assert _replay(session_app, saved).get("/api/v1/me").status_code == 200
    assert admin.post("/api/v1/logout", json={}).status_code == 200
    replayed = _replay(session_app, saved)
    assert replayed.get("/api/v1/me").status_code == 401
    assert replayed.get("/admin/apikeys").status_code in (302, 401)


def test_logout_ends_every_session_of_the_user(session_app):
    phone, desk = _signed_in(session_app, "acceptor1"), _signed_in(session_app, "acceptor1")
    other = _signed_in(session_app, "dispatcher1")
    assert phone.post("/api/v1/logout", json={}).status_code == 200
    assert desk.get("/api/v1/me").status_code == 401
    assert other.get("/api/v1/me").status_code == 200  # only that user's sessions end


@pytest.mark.parametrize("change", [{"active": False}, {"role": "auditor"}, {"district_code": "330193"}])
def test_disabling_or_a_role_change_ends_the_sessions_at_once(session_app, city, change):
    client = _signed_in(session_app, "supervisor1")
    assert client.get("/api/v1/me").status_code == 200
    with city.session() as s:
        user = s.scalar(select(User).where(User.username == "supervisor1"))
        for key, value in change.items():
            setattr(user, key, value)
    assert client.get("/api/v1/me").status_code == 401


def test_an_idle_session_ends_after_session_minutes(session_app, monkeypatch):
    """The idle limit is the signed cookie's age (refreshed on every request), checked by the server:
    a cookie kept by a client beyond SESSION_MINUTES is refused even if the client still sends it."""
    import itsdangerous.timed

    client = _signed_in(session_app, "acceptor1")
    saved = client.get_cookie("session").value
    real = itsdangerous.timed.time.time  # (the time module itself: patched only for these two requests)
    minutes = session_app.config["SESSION_MINUTES"]
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + (minutes - 1) * 60)
    assert _replay(session_app, saved).get("/api/v1/me").status_code == 200  # still within the idle limit
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + (minutes + 1) * 60)
    assert _replay(session_app, saved).get("/api/v1/me").status_code == 401


def test_a_session_ends_after_the_absolute_limit_however_active(session_app, clock):
    client = _signed_in(session_app, "acceptor1")
    for _ in range(5):  # active every two hours: the idle limit never strikes
        clock.advance(timedelta(hours=2))
        assert client.get("/api/v1/me").status_code == 200
    clock.advance(timedelta(hours=2, minutes=1))  # 12 h after sign-in
    assert client.get("/api/v1/me").status_code == 401


def test_sign_in_is_throttled_per_account_from_any_address(sqlite_city, clock):
    app = make_app(sqlite_city, clock, LOGIN_ACCOUNT_LIMIT="3/minute")
    statuses = [_client(app).post("/api/v1/login", json={"username": "leader1", "password": "wrong"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    r = _client(app).post("/api/v1/login", json={"username": "leader1", "password": PASSWORD})
    assert r.status_code == 429 and "账号" in r.get_json()["error"]  # "this account" (zh by default)
    assert set(r.get_json()) == {"error", "fields"}
    assert _client(app).post("/api/v1/login", json={"username": "auditor1", "password": PASSWORD}).status_code == 200
    page = _client(app).post("/login", data={"username": "leader1", "password": PASSWORD})
    assert page.status_code == 429


@pytest.mark.parametrize(("password", "problem"), [
    ("short1", "10 characters"), ("onlyletterslong", "digits"), ("1234567890123", "digits"),
    ("password123", "common"), ("xacceptor1x2y", "user name"), ("a1a1a1a1a1a1", "different"),
])
def test_the_password_policy_names_what_is_missing(password, problem):
    assert any(problem in p for p in password_problems(password, "acceptor1"))


def test_a_new_password_must_follow_the_policy_and_ends_the_sessions(session_app, city):
    client = _signed_in(session_app, "acceptor1")
    with city.session() as s, pytest.raises(ValidationError):
        set_password(s, "acceptor1", "demo1234")
    assert client.get("/api/v1/me").status_code == 200
    with city.session() as s:
        set_password(s, "acceptor1", "Grün-Baum-42-Ahorn")
    assert client.get("/api/v1/me").status_code == 401
    r = _client(session_app).post("/api/v1/login", json={"username": "acceptor1", "password": "Grün-Baum-42-Ahorn"})
    assert r.status_code == 200


def test_the_session_cookie_is_secure_over_https_only(sqlite_city, clock):
    app = make_app(sqlite_city, clock)
    for https, secure in ((True, True), (False, False)):
        r = _client(app).post("/api/v1/login", json={"username": "acceptor1", "password": PASSWORD},
                              base_url="https://localhost" if https else "http://localhost")
        cookie = r.headers["Set-Cookie"]
        assert ("; Secure" in cookie) is secure, cookie
        assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    forced = make_app(sqlite_city, clock, SECURE_COOKIES="true")
    r = _client(forced).post("/api/v1/login", json={"username": "acceptor1", "password": PASSWORD})
    assert "; Secure" in r.headers["Set-Cookie"]

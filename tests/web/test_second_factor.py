"""Admins and designers sign in with a second factor (TOTP); others with their password alone."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli import cli
from engine.clock import SystemClock
from engine.models import User
from tests.web.webkit import PASSWORD, make_app

ROLES = "admin,designer"
_SECRET = re.compile(r'<code class="totp-secret">([A-Z2-7 ]+)</code>')


@pytest.fixture
def app(city, clock):
    app = make_app(city, clock, TOTP_ROLES=ROLES)
    yield app
    app.extensions["citycase"].engine.dispose()


def password(client, username: str):
    return client.post("/login", data={"username": username, "password": PASSWORD})


def signed_in(client) -> bool:
    return client.get("/home").status_code == 200


def code_at(secret: str, when) -> str:
    return pyotp.TOTP(secret).at(when)


def enrol(client, clock) -> str:
    page = client.get("/login/enrol").get_data(as_text=True)
    assert "<svg" in page  # the QR code to scan
    secret = _SECRET.search(page).group(1).replace(" ", "")
    r = client.post("/login/enrol", data={"code": code_at(secret, clock.now())})
    assert r.status_code == 302
    return secret


def test_a_designer_enrols_then_needs_a_fresh_code_each_time(app, city, clock):
    client = app.test_client()
    r = password(client, "designer1")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/enrol")
    assert not signed_in(client)  # the password alone opens nothing

    page = client.get("/login/enrol").get_data(as_text=True)
    secret = _SECRET.search(page).group(1).replace(" ", "")
    wrong = client.post("/login/enrol", data={"code": "000000"})
    assert wrong.status_code == 200 and "验证码不匹配" in wrong.get_data(as_text=True)
    assert not signed_in(client)
    with city.session() as s:
        assert s.scalar(select(User.totp_secret).where(User.username == "designer1")) is None

    r = client.post("/login/enrol", data={"code": code_at(secret, clock.now())})
    assert r.status_code == 302 and signed_in(client)
    client.post("/logout")

    r = password(client, "designer1")
    assert r.headers["Location"].endswith("/login/code")
    replay = client.post("/login/code", data={"code": code_at(secret, clock.now())})
    assert replay.status_code == 200 and "已被使用" in replay.get_data(as_text=True)  # one use per code
    assert not signed_in(client)
    clock.advance(timedelta(seconds=30))
    r = client.post("/login/code", data={"code": code_at(secret, clock.now())})
    assert r.status_code == 302 and signed_in(client)


def test_a_pending_sign_in_expires(app, clock):
    client = app.test_client()
    password(client, "admin1")
    clock.advance(timedelta(minutes=6))
    r = client.get("/login/enrol")
    assert r.status_code == 400 and "已过期" in r.get_data(as_text=True)
    assert client.post("/login/code", data={"code": "123456"}).status_code == 400


def test_roles_without_a_second_factor_sign_in_with_the_password(app):
    client = app.test_client()
    r = password(client, "acceptor1")
    assert r.status_code == 302 and "/login/" not in r.headers["Location"]
    assert client.get("/inbox").status_code == 200


def test_a_reset_second_factor_ends_sessions_and_asks_to_enrol_again(app, city, clock):
    client = app.test_client()
    password(client, "designer1")
    enrol(client, clock)
    assert signed_in(client)
    result = CliRunner().invoke(cli, ["--database-url", city.url, "user", "reset-second-factor", "designer1"])
    assert result.exit_code == 0, result.output
    assert not signed_in(client)  # the lost phone's session is over
    r = password(client, "designer1")
    assert r.headers["Location"].endswith("/login/enrol")
    missing = CliRunner().invoke(cli, ["--database-url", city.url, "user", "reset-second-factor", "nobody"])
    assert missing.exit_code != 0 and "nobody" in missing.output


def test_on_the_system_clock(city):
    """The codes an authenticator app shows right now are what the server accepts."""
    app = make_app(city, SystemClock(), TOTP_ROLES=ROLES)
    client = app.test_client()
    password(client, "admin1")
    page = client.get("/login/enrol").get_data(as_text=True)
    secret = _SECRET.search(page).group(1).replace(" ", "")
    assert client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get("/admin/apikeys").status_code == 200
    app.extensions["citycase"].engine.dispose()


def test_the_api_asks_these_roles_for_the_code_too(app, clock):
    browser = app.test_client()
    password(browser, "designer1")
    api = app.test_client()
    r = api.post("/api/v1/login", json={"username": "designer1", "password": PASSWORD})
    assert r.status_code == 403 and "enrol" in r.get_json()["error"]  # not enrolled yet: the page first
    secret = enrol(browser, clock)
    r = api.post("/api/v1/login", json={"username": "designer1", "password": PASSWORD})
    assert r.status_code == 401 and r.get_json()["fields"] == {"code": "required"}
    assert api.get("/api/v1/me").status_code == 401
    clock.advance(timedelta(seconds=30))
    r = api.post("/api/v1/login", json={"username": "designer1", "password": PASSWORD,
                                        "code": code_at(secret, clock.now())})
    assert r.status_code == 200 and api.get("/api/v1/me").get_json()["user"]["username"] == "designer1"
    r = app.test_client().post("/api/v1/login", json={"username": "designer1", "password": PASSWORD,
                                                      "code": code_at(secret, clock.now())})
    assert r.status_code == 401 and r.get_json()["fields"] == {"code": "mismatch"}  # used once already

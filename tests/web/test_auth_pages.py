"""Sign-in, sign-out, CSRF, security headers, language switch, session lifetime."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from engine.models import User
from tests.web.webkit import PASSWORD, csrf_token, login, make_app


def test_login_ok_goes_to_inbox(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    response = client.post("/login", data={"username": "acceptor1", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/inbox")
    assert client.get("/inbox").status_code == 200


def test_login_follows_only_local_next(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    r = client.post("/login?next=/cases", data={"username": "acceptor1", "password": PASSWORD})
    assert r.headers["Location"].endswith("/cases")
    client.post("/logout")
    r = client.post("/login?next=//evil.example/x", data={"username": "acceptor1", "password": PASSWORD})
    assert "evil" not in r.headers["Location"]


def test_bad_password_and_unknown_user(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    for user, password in (("acceptor1", "wrong"), ("nobody", PASSWORD)):
        response = client.post("/login", data={"username": user, "password": password})
        assert response.status_code == 200
        assert "用户名或密码错误" in response.get_data(as_text=True)
        assert client.get("/inbox").status_code == 302


def test_inactive_user_refused(sqlite_city, clock):
    with sqlite_city.session() as s:
        s.execute(update(User).where(User.username == "dispatcher1").values(active=False))
    client = make_app(sqlite_city, clock).test_client()
    response = client.post("/login", data={"username": "dispatcher1", "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/inbox").status_code == 302


def test_user_deactivated_while_signed_in_is_signed_out(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")
    with sqlite_city.session() as s:
        s.execute(update(User).where(User.username == "dispatcher1").values(active=False))
    assert client.get("/inbox").status_code == 302


def test_anonymous_is_sent_to_login(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    for path in ("/inbox", "/cases", "/cases/2026112500001", "/report/mobile", "/tasks/abc"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]


def test_logout_is_post_only(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/inbox").status_code == 302


def test_csrf_rejects_posts_without_token(sqlite_city, clock):
    app = make_app(sqlite_city, clock, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    # No token: refused with 400 and a friendly page.
    response = client.post("/login", data={"username": "acceptor1", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    # With the token scraped from the page: accepted.
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "acceptor1", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    # Logout and claim need the token too.
    assert client.post("/logout").status_code == 400
    assert client.post("/tasks/x/claim").status_code == 400
    token = csrf_token(client.get("/inbox").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_security_headers(sqlite_city, clock):
    app = make_app(sqlite_city, clock, TILE_URL="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    response = app.test_client().get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "https://*.tile.example.org" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_session_expires_after_configured_idle_minutes(sqlite_city, clock):
    app = make_app(sqlite_city, clock, SESSION_MINUTES=15)
    assert app.permanent_session_lifetime == timedelta(minutes=15)
    client = app.test_client()
    response = client.post("/login", data={"username": "acceptor1", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie
    # Every request re-issues the cookie (idle timeout, not absolute).
    assert "Set-Cookie" in client.get("/inbox").headers


def test_language_switch_shows_english(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    html = client.get("/inbox").get_data(as_text=True)
    assert "我的任务" in html and "My tasks" not in html
    response = client.post("/language", data={"lang": "en", "next": "/inbox"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    html = client.get("/inbox").get_data(as_text=True)
    assert "My tasks" in html and "Group tasks" in html and "我的任务" not in html
    client.post("/language", data={"lang": "zh_Hans_CN"})
    assert "我的任务" in client.get("/inbox").get_data(as_text=True)
    assert client.post("/language", data={"lang": "fr"}).status_code == 400


def test_secret_key_generated_into_instance(sqlite_city, clock, tmp_path, monkeypatch):
    from web import app as app_module

    key = app_module._instance_secret(tmp_path)
    assert len(key) == 64 and (tmp_path / "secret_key").read_text().strip() == key
    assert app_module._instance_secret(tmp_path) == key


def test_errors_are_friendly_pages(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    response = client.get("/cases/000")
    assert response.status_code == 404
    assert "000" in response.get_data(as_text=True)
    assert client.get("/no-such-page").status_code == 404


ROLE_PAGES = {
    # user: (/inbox, /cases, /report/mobile, start page)
    "supervisor1": (200, 200, 200, "/inbox"),
    "acceptor1": (200, 200, 403, "/inbox"),
    "shiftleader1": (200, 200, 403, "/inbox"),
    "dispatcher1": (200, 200, 403, "/inbox"),
    "handler_sanitation_330191": (200, 200, 403, "/inbox"),
    "leader_sanitation_330191": (200, 200, 403, "/stats"),
    "leader1": (200, 200, 403, "/stats"),
    "auditor1": (403, 200, 403, "/audit"),
    "admin1": (403, 200, 403, "/admin"),
    "designer1": (403, 403, 403, "/designer/"),
}


def test_every_role_allowed_and_forbidden_pages(sqlite_city, clock):
    app = make_app(sqlite_city, clock)
    for user, (inbox, cases, mobile, start) in ROLE_PAGES.items():
        client = app.test_client()
        login(client, user)
        assert client.get("/inbox").status_code == inbox, user
        assert client.get("/cases").status_code == cases, user
        assert client.get("/report/mobile").status_code == mobile, user
        assert client.get("/").headers["Location"].endswith(start), user
        assert client.get(start).status_code == 200, user
        assert client.get("/report/public").status_code == 200, user


def test_password_guessing_is_rate_limited(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    # a different account each time: this is the per-address limit (per account: test_sessions.py)
    statuses = [client.post("/login", data={"username": f"nobody{i}", "password": f"guess{i}"}).status_code
                for i in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


def test_the_start_page_lists_only_pages_the_role_may_open(sqlite_city, clock):
    app = make_app(sqlite_city, clock)
    for user in ("designer1", "auditor1", "admin1", "leader1"):
        client = app.test_client()
        login(client, user)
        html = client.get("/home").get_data(as_text=True)
        links = re.findall(r'<li><a href="([^"]+)"', html)
        assert links and all(client.get(link).status_code == 200 for link in links), (user, links)
        assert user == "admin1" or "/admin/apikeys" not in html  # the 403 link designers used to get

"""Single sign-on through the city's OpenID Connect provider (tests/web/oidc_provider.py over HTTP)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from tests.web.oidc_provider import Provider
from tests.web.webkit import make_app


@pytest.fixture
def provider():
    with Provider() as p:
        yield p


@pytest.fixture
def sso_app(city, clock, provider):
    app = make_app(city, clock, OIDC_ISSUER=provider.issuer, OIDC_CLIENT_ID="citycase",
                   OIDC_CLIENT_SECRET="s3cret", OIDC_LABEL="政务统一身份认证")
    yield app
    app.extensions["citycase"].engine.dispose()


def through_provider(client, start: str = "/login/sso"):
    """Follow the browser's way: citycase → provider's authorize → back to citycase's callback."""
    r = client.get(start)
    assert r.status_code == 302
    at_provider = requests.get(r.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def test_a_caseworker_signs_in_through_the_provider(sso_app, provider):
    client = sso_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "政务统一身份认证" in page
    r = through_provider(client, "/login/sso?next=/cases/search")
    assert r.status_code == 302 and r.headers["Location"] == "/cases/search"
    assert client.get("/inbox").status_code == 200
    assert "acceptor1" in client.get("/api/v1/me").get_data(as_text=True)


def test_an_unknown_or_disabled_person_is_refused_with_advice(sso_app, provider, city):
    provider.username = "nobody-here"
    client = sso_app.test_client()
    r = through_provider(client)
    assert r.status_code == 403 and "没有名为" in r.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302  # not signed in


def test_a_token_not_signed_by_the_provider_is_refused(sso_app, provider):
    provider.forge = True
    client = sso_app.test_client()
    r = through_provider(client)
    assert r.status_code == 400 and "无法核验" in r.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302


def test_roles_with_a_second_factor_still_give_the_code(city, clock, provider):
    app = make_app(city, clock, OIDC_ISSUER=provider.issuer, OIDC_CLIENT_ID="citycase", OIDC_CLIENT_SECRET="s3cret",
                   TOTP_ROLES="designer")
    provider.username = "designer1"
    r = through_provider(app.test_client())
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/enrol")
    app.extensions["citycase"].engine.dispose()


def test_without_a_provider_there_is_no_sso(app):
    client = app.test_client()
    assert client.get("/login/sso").status_code == 404
    assert "/login/sso" not in client.get("/login").get_data(as_text=True)

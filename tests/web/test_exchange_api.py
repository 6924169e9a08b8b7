"""The 12345 platform sends work orders (signed); the scheduler reports upward — on the system clock."""

from __future__ import annotations

import time

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cli import cli
from engine import signed_post as signing
from engine.clock import SystemClock
from engine.model import EngineContext
from engine.models import Case, ExchangeCursor
from tests.engine.exchange.receiver import Receiver
from tests.engine.exchange.test_push import walk_to_closed
from tests.factories import CaseDriver
from tests.web.apikit import make_app

SECRET = "hl-secret"
PATH = "/api/v1/exchange/12345/orders"


@pytest.fixture
def live_app(city):
    app = make_app(city, SystemClock(), EXCHANGE_HOTLINE_SECRET=SECRET)
    yield app
    app.extensions["citycase"].engine.dispose()


def order(city, no: str = "GD20261129007") -> dict:
    lon, lat = city.city["center"]
    return {"order_no": no, "class_code": "E0102", "lon": lon, "lat": lat, "description": "路灯不亮",
            "caller_name": "王先生", "caller_phone": "13700002222"}


def send(client, body: bytes, *, secret: str = SECRET, at: float | None = None):
    ts = str(int(at if at is not None else time.time()))
    return client.post(PATH, data=body, content_type="application/json",
                       headers={signing.TIMESTAMP_HEADER: ts, signing.SIGNATURE_HEADER: signing.signature(secret, ts, body)})


def cases(city) -> int:
    with city.session() as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_a_signed_order_is_filed_once(live_app, city):
    client = live_app.test_client()
    body = orjson.dumps(order(city))
    r = send(client, body)
    assert r.status_code == 201, r.get_json()
    number = r.get_json()["case_number"]
    again = send(client, body)
    assert again.status_code == 200 and again.get_json() == {"order_no": "GD20261129007", "case_number": number,
                                                             "created": False}
    assert cases(city) == 1


@pytest.mark.parametrize("trouble", ["unsigned", "wrong secret", "stale", "not json", "incomplete"])
def test_bad_requests_are_refused_and_write_nothing(live_app, city, trouble):
    client = live_app.test_client()
    body = orjson.dumps(order(city))
    if trouble == "unsigned":
        r = client.post(PATH, data=body, content_type="application/json")
    elif trouble == "wrong secret":
        r = send(client, body, secret="guess")
    elif trouble == "stale":
        r = send(client, body, at=time.time() - 600)
    elif trouble == "not json":
        r = send(client, b"{not json")
    else:
        r = send(client, orjson.dumps({"order_no": "GD1"}))
    assert r.status_code == (401 if trouble in ("unsigned", "wrong secret", "stale") else 400), r.get_json()
    assert r.get_json()["error"] and cases(city) == 0


def test_without_a_secret_the_endpoint_is_not_there(city):
    app = make_app(city, SystemClock())
    r = send(app.test_client(), orjson.dumps(order(city)))
    assert r.status_code == 404 and cases(city) == 0
    app.extensions["citycase"].engine.dispose()


def test_the_scheduler_reports_closed_cases_upward(city, clock, monkeypatch):
    """`citycase scheduler --once` on the system clock sends what the manual-clock walk closed days ago."""
    walk_to_closed(CaseDriver(city, EngineContext(clock)))
    with Receiver() as receiver:
        monkeypatch.setenv("CITYCASE_EXCHANGE_UPWARD_URL", receiver.url)
        monkeypatch.setenv("CITYCASE_EXCHANGE_UPWARD_SECRET", "up-secret")
        result = CliRunner().invoke(cli, ["--database-url", city.url, "--json", "scheduler", "--once"])
        assert result.exit_code == 0, result.output
        assert orjson.loads(result.output)["exchanged"] == 2
        assert [m["type"] for m in receiver.messages()] == ["case.filed", "case.closed"]
    with city.session() as s:
        assert s.get(ExchangeCursor, "upward").last_sent_at is not None
    monkeypatch.setenv("CITYCASE_EXCHANGE_UPWARD_SECRET", "")
    refused = CliRunner().invoke(cli, ["--database-url", city.url, "scheduler", "--once"])
    assert refused.exit_code != 0 and "CITYCASE_EXCHANGE_UPWARD_SECRET" in refused.output

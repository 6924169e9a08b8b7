"""Privacy by configuration: Open311 publishes only what the city chooses; citizens' numbers are
masked on pages and in the API for roles that do not need them."""

from __future__ import annotations

import itertools
import math

import pytest
from sqlalchemy import select

from engine.commands import start_case
from engine.model import Actor, EngineContext
from engine.models import Case
from tests.factories import report
from tests.web.apikit import make_app

BASE = "/open311/v2"
PHONE, ID_CARD = "13812345678", "110101199003071234"
_addresses = itertools.count(1)


def _case(city, clock, class_code: str = "E0102", **extra):
    data = report(city.city, class_code=class_code, description=f"门口垃圾，联系 {PHONE}，身份证 {ID_CARD}",
                  reporter=f"张三 {PHONE}", **extra)
    with city.session() as s:
        return start_case(s, EngineContext(clock), data, Actor("citizen", "citizen"))


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dy = (lat1 - lat2) * 111_320
    dx = (lon1 - lon2) * 111_320 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


def test_open311_rounds_coordinates_and_redacts_numbers_by_default(city, clock):
    started = _case(city, clock)
    app = make_app(city, clock)
    (request,) = app.test_client().get(f"{BASE}/requests/{started.number}.json").get_json()
    assert PHONE not in str(request) and ID_CARD not in str(request) and "***" in request["description"]
    with city.session() as s:
        case = s.scalar(select(Case).where(Case.number == started.number))
    distance = _metres(case.lat, case.lon, request["lat"], request["long"])
    assert 0 < distance <= 100 * math.sqrt(2) / 2 + 1  # inside the 100 m cell, not the exact spot


def test_open311_lists_only_the_published_classes_and_can_omit_descriptions(city, clock):
    hidden = _case(city, clock, "E0102")
    shown = _case(city, clock, "E0101")
    app = make_app(city, clock, OPEN311_PUBLIC_CLASSES="E0101", OPEN311_DESCRIPTIONS="omit",
                   OPEN311_ROUND_METRES=0)
    client = app.test_client()
    listed = client.get(f"{BASE}/requests.json").get_json()
    assert [r["service_request_id"] for r in listed] == [shown.number]
    assert listed[0]["description"] is None
    assert client.get(f"{BASE}/requests/{hidden.number}.json").status_code == 404
    assert [s["service_code"] for s in client.get(f"{BASE}/services.json").get_json()] == ["E0101"]
    assert client.get(f"{BASE}/services/E0102.json").status_code == 404


@pytest.mark.parametrize(("username", "sees"), [("acceptor1", True), ("dispatcher1", True),
                                                ("supervisor1", False), ("leader1", False), ("auditor1", False)])
def test_citizens_numbers_are_masked_for_roles_that_do_not_need_them(city, clock, username, sees):
    started = _case(city, clock)
    app = make_app(city, clock)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.66.0.{next(_addresses) % 250}"
    assert client.post("/api/v1/login", json={"username": username, "password": "demo1234"}).status_code == 200
    page = client.get(f"/cases/{started.number}").get_data(as_text=True)
    api = client.get(f"/api/v1/cases/{started.number}").get_json()
    for text in (page, str(api)):
        assert (PHONE in text) is sees and (ID_CARD in text) is sees
    if not sees:
        assert "138****5678" in page and "138****5678" in api["case"]["reporter"]

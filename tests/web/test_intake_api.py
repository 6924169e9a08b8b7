"""POST /api/v1/intake/observations: device key, JSON body, the API's error shape, nothing written on refusals."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from engine.devices.models import DeviceKind
from engine.devices.observations import MAX_PHOTO_BYTES
from tests.engine.devices.kit import case_count, everything, register

URL = "/api/v1/intake/observations"


@pytest.fixture
def gauge(city, clock) -> str:
    return register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)


def _post(client, key, body, **kw):
    headers = {"X-Device-Key": key} if key is not None else {}
    return client.post(URL, json=body, headers=headers, **kw)


def _body(clock, **over):
    return {"device_id": "WG-1", "kind": "water_gauge", "at": clock.now().isoformat(), "value": 10, **over}


def test_a_normal_reading_is_accepted_and_files_nothing(app, city, clock, gauge):
    before = case_count(city)
    r = _post(app.test_client(), gauge, _body(clock))
    assert r.status_code == 200
    assert r.get_json() == {"device_id": "WG-1", "state": "normal", "outcome": "normal", "case_id": None,
                                 "case_number": None}
    assert case_count(city) == before


def test_three_readings_over_file_a_case_and_the_fourth_attaches(app, city, clock, gauge):
    client = app.test_client()
    outs = []
    for _ in range(4):
        outs.append(_post(client, gauge, _body(clock, value=42)).get_json())
        clock.advance(timedelta(minutes=5))
    assert [o["outcome"] for o in outs] == ["pending", "pending", "case_started", "attached"]
    assert outs[2]["case_number"] and outs[3]["case_number"] == outs[2]["case_number"]


REFUSED = {
    "unknown device": (lambda c, k: (k, _body(c, device_id="WG-404")), 401, "X-Device-Key"),
    "wrong key": (lambda c, k: ("not-the-key", _body(c)), 401, "X-Device-Key"),
    "no key": (lambda c, k: (None, _body(c)), 401, "X-Device-Key"),
    "future time": (lambda c, k: (k, _body(c, at=(c.now() + timedelta(hours=1)).isoformat())), 400, "at"),
    "out of range": (lambda c, k: (k, _body(c, value=100000)), 400, "value"),
    "malformed": (lambda c, k: (k, _body(c, value={"depth": 3})), 400, "value"),
    "huge photo": (lambda c, k: (k, _body(c, photo=base64.b64encode(b"\0" * (MAX_PHOTO_BYTES + 10)).decode())),
                   400, "photo"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_observations_get_a_clear_4xx_in_the_error_shape_and_write_nothing(app, city, clock, gauge, case):
    make, status, field = REFUSED[case]
    key, body = make(clock, gauge)
    before = everything(city)
    r = _post(app.test_client(), key, body)
    assert r.status_code == status
    payload = r.get_json()
    assert set(payload) == {"error", "fields"} and payload["error"] and field in payload["fields"]
    assert everything(city) == before


def test_a_body_that_is_not_json_is_refused(app, city, clock, gauge):
    before = everything(city)
    r = app.test_client().post(URL, data="value=3", headers={"X-Device-Key": gauge},
                               content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and set(r.get_json()) == {"error", "fields"}
    r = app.test_client().post(URL, data="{not json", headers={"X-Device-Key": gauge}, content_type="application/json")
    assert r.status_code == 400 and set(r.get_json()) == {"error", "fields"}
    assert everything(city) == before

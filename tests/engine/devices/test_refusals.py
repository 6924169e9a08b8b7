"""Every bad observation is refused with a field named, and nothing is written."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from engine.devices.models import DeviceKind
from engine.devices.observations import MAX_PHOTO_BYTES
from engine.devices.receive import DeviceRefused, receive
from engine.errors import ValidationError
from engine.model import EngineContext
from tests.engine.devices.kit import everything, register


def _body(clock, **over):
    body = {"device_id": "WG-1", "kind": "water_gauge", "at": clock.now().isoformat(), "value": 50}
    body.update(over)
    return {k: v for k, v in body.items() if v is not ...}


BAD = {
    "future time": (lambda c: _body(c, at=(c.now() + timedelta(minutes=10)).isoformat()), "at"),
    "too old": (lambda c: _body(c, at=(c.now() - timedelta(days=8)).isoformat()), "at"),
    "time without zone": (lambda c: _body(c, at="2026-11-25T01:00:00"), "at"),
    "value out of range": (lambda c: _body(c, value=9999), "value"),
    "negative value": (lambda c: _body(c, value=-1), "value"),
    "value as text": (lambda c: _body(c, value="50"), "value"),
    "no value": (lambda c: _body(c, value=...), "value"),
    "wrong kind": (lambda c: _body(c, kind="smart_bin"), "kind"),
    "unknown kind": (lambda c: _body(c, kind="toaster"), "kind"),
    "class for a gauge": (lambda c: _body(c, class_code="E0405", confidence=0.9), "class_code"),
    "unknown field": (lambda c: _body(c, extra=1), "extra"),
    "bad location": (lambda c: _body(c, lon=500, lat=30), "lon"),
    "photo not base64": (lambda c: _body(c, photo="@@@"), "photo"),
    "huge photo": (lambda c: _body(c, photo=base64.b64encode(b"x" * (MAX_PHOTO_BYTES + 1)).decode()), "photo"),
    "no time": (lambda c: _body(c, at=...), "at"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_observation_is_refused_naming_the_field_and_nothing_is_written(city, clock, case):
    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    make, field = BAD[case]
    before = everything(city)
    with pytest.raises(ValidationError) as refused, city.session() as s:
        receive(s, EngineContext(clock), key, make(clock))
    assert field in refused.value.fields
    assert everything(city) == before


@pytest.mark.parametrize("case", ["unknown device", "wrong key", "no key", "revoked key", "body not an object"])
def test_an_unknown_device_or_wrong_key_is_refused_and_nothing_is_written(city, clock, case):
    from engine.devices.registry import revoke_key

    key = register(city, clock, "WG-1", DeviceKind.WATER_GAUGE)
    body = _body(clock)
    if case == "revoked key":
        with city.session() as s:
            revoke_key(s, "WG-1")
    sent_key = {"wrong key": key[:-2] + "xx", "no key": None}.get(case, key)
    body = {"unknown device": _body(clock, device_id="WG-404"), "body not an object": [body]}.get(case, body)
    before = everything(city)
    with pytest.raises(DeviceRefused), city.session() as s:
        receive(s, EngineContext(clock), sent_key, body)
    assert everything(city) == before

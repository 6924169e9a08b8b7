"""``citycase devices``: register (key shown once), list, revoke, and the silence check on the system clock."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from cli import cli
from engine.audit import verify_all
from engine.clock import SystemClock
from engine.devices.models import Device
from engine.devices.receive import DeviceRefused, receive
from engine.model import EngineContext


def _run(url: str, *args: str, code: int = 0):
    result = CliRunner().invoke(cli, ["--database-url", url, *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_add_list_and_revoke_a_device(city):
    lon, lat = city.city["center"]
    added = json.loads(_run(city.url, "devices", "add", "WG-7", "--kind", "water_gauge", "--department", "drainage",
                            "--lon", str(lon), "--lat", str(lat), "--json").stdout)
    assert added["id"] == "WG-7" and len(added["key"]) >= 40
    listed = json.loads(_run(city.url, "devices", "list", "--json").stdout)
    assert [(d["id"], d["state"], d["key"]) for d in listed] == [("WG-7", "normal", "active")]
    assert added["key"] not in json.dumps(listed)
    clock = SystemClock()
    body = {"device_id": "WG-7", "kind": "water_gauge", "at": clock.now().isoformat(), "value": 3}
    with city.session() as s:
        assert receive(s, EngineContext(clock), added["key"], body).state == "normal"
    _run(city.url, "devices", "revoke-key", "WG-7")
    with pytest.raises(DeviceRefused), city.session() as s:
        receive(s, EngineContext(clock), added["key"], body)


def test_bad_registrations_exit_non_zero_with_a_message(city):
    r = _run(city.url, "devices", "add", "WG-8", "--kind", "water_gauge", "--department", "nowhere",
             "--lon", "120.1", "--lat", "30.2", code=1)
    assert "unknown department" in r.stderr
    r = _run(city.url, "devices", "add", "WG-8", "--kind", "water_gauge", "--department", "drainage", code=1)
    assert "location" in r.stderr
    assert "does not exist" in _run(city.url, "devices", "revoke-key", "NOPE", code=1).stderr


def test_check_silent_on_the_system_clock_files_a_maintenance_case(city):
    lon, lat = city.city["center"]
    _run(city.url, "devices", "add", "BIN-7", "--kind", "smart_bin", "--department", "sanitation",
         "--lon", str(lon), "--lat", str(lat))
    assert json.loads(_run(city.url, "devices", "check-silent", "--json").stdout) == []
    with city.session() as s:  # last heard from five hours ago (smart bins are silent after four)
        s.execute(update(Device).values(last_seen=SystemClock().now() - timedelta(hours=5)))
    found = json.loads(_run(city.url, "devices", "check-silent", "--json").stdout)
    assert [(f["id"], f["department"]) for f in found] == [("BIN-7", "sanitation")]
    assert json.loads(_run(city.url, "devices", "check-silent", "--json").stdout) == []
    with city.session() as s:
        assert verify_all(s) == (1, [])


def test_simulate_devices_from_the_cli(city):
    out = json.loads(_run(city.url, "devices", "simulate", "--hours", "4", "--seed", "3",
                          "--start", "2026-11-25T09:00+08:00", "--json").stdout)
    assert out["devices"] == 8 and out["observations"] == 8 * 48
    assert len(out["cases"]) == 1 and out["outcomes"]["back_to_normal"] == 1
    r = _run(city.url, "devices", "simulate", "--start", "yesterday", code=1)
    assert "ISO" in r.stderr

"""/admin/devices: register (the key shown once), rotate, deactivate; admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.apikeys import hash_key
from engine.devices.models import Device
from tests.web.webkit import login, make_app


@pytest.fixture
def app(city, clock):
    app = make_app(city, clock)
    yield app
    app.extensions["citycase"].engine.dispose()


def _key(html: str) -> str:
    start = html.index('id="new-key"')
    return html[start:].split("<code>")[1].split("</code>")[0]


def test_an_admin_registers_a_device_sees_its_key_once_rotates_and_deactivates_it(app, city):
    lon, lat = city.city["center"]
    client = app.test_client()
    login(client, "admin1")
    made = client.post("/admin/devices", data={"id": "WG-ADMIN-1", "kind": "water_gauge", "department": "drainage",
                                               "lon": str(lon), "lat": str(lat)})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    key = _key(made.get_data(as_text=True))
    with city.session() as s:
        assert s.get(Device, "WG-ADMIN-1").key_hash == hash_key(key)
    listing = client.get("/admin/devices").get_data(as_text=True)
    assert "WG-ADMIN-1" in listing and key not in listing
    rotated = _key(client.post("/admin/devices/WG-ADMIN-1/rotate").get_data(as_text=True))
    assert rotated != key
    client.post("/admin/devices/WG-ADMIN-1/deactivate")
    with city.session() as s:
        assert s.get(Device, "WG-ADMIN-1").key_hash is None


@pytest.mark.parametrize("form,words", [
    ({"id": "bad id!", "kind": "water_gauge", "department": "drainage", "lon": "120.1", "lat": "30.2"}, "设备编号"),
    ({"id": "WG-X", "kind": "toaster", "department": "drainage", "lon": "120.1", "lat": "30.2"}, "设备类型"),
    ({"id": "WG-X", "kind": "water_gauge", "department": "nobody", "lon": "120.1", "lat": "30.2"}, "权属单位"),
    ({"id": "WG-X", "kind": "water_gauge", "department": "drainage", "lon": "east", "lat": "30.2"}, "经度"),
    ({"id": "WG-X", "kind": "water_gauge", "department": "drainage"}, "位置"),
])
def test_a_bad_registration_says_what_to_fix_and_writes_nothing(app, city, form, words):
    client = app.test_client()
    login(client, "admin1")
    response = client.post("/admin/devices", data=form)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    with city.session() as s:
        assert s.scalars(select(Device)).all() == []


@pytest.mark.parametrize("user", ["supervisor1", "shiftleader1", "acceptor1", "auditor1", "designer1"])
def test_the_device_pages_are_refused_to_everyone_but_admins(app, city, user):
    client = app.test_client()
    login(client, user)
    assert client.get("/admin/devices").status_code == 403
    assert client.post("/admin/devices", data={"id": "X-1", "kind": "camera", "department": "drainage",
                                               "lon": "120.1", "lat": "30.2"}).status_code == 403
    assert client.post("/admin/devices/X-1/rotate").status_code == 403
    assert client.post("/admin/devices/X-1/deactivate").status_code == 403


def test_an_unknown_device_is_a_404(app):
    client = app.test_client()
    login(client, "admin1")
    assert client.post("/admin/devices/NOPE/rotate").status_code == 404


def test_the_case_page_shows_the_device_back_to_normal_and_the_check_task(app, city, clock):
    from engine.demo.field import FLOOD_GAUGE, flood

    run = flood(city.factory, clock.now(), "Asia/Shanghai")
    client = app.test_client()
    login(client, "shiftleader1")
    page = client.get(f"/cases/{run.flood_case}").get_data(as_text=True)
    assert f"设备 {FLOOD_GAUGE} 已恢复正常，请监督员现场核查。" in page
    assert "设备恢复核查" in page

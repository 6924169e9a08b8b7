"""Cases walked through the JSON API and the web pages on the app's default clock (the real
system clock) replay exactly: verify finds nothing (issue 9)."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import Case
from tests.web import apikit, webkit
from tests.web.test_api import complete, only_task, sign_in


def _verified(db):
    from engine.audit import verify_all

    with db.session() as s:
        return verify_all(s)


def test_api_walk_on_the_system_clock_verifies(city):
    app = apikit.make_app(city, None)  # no CLOCK: the app runs on SystemClock
    lon, lat = city.city["center"]
    acceptor = sign_in(app, "acceptor1")
    r = acceptor.post("/api/v1/cases", json={"source": "hotline", "class_code": "E0102", "lon": lon, "lat": lat,
                                             "description": "热线：路边垃圾"})
    assert r.status_code == 201, r.get_json()
    supervisor = sign_in(app, "supervisor1")
    verify = only_task(supervisor, "verify")
    assert supervisor.post(f"/api/v1/tasks/{verify['id']}/claim", json={}).status_code == 200
    assert complete(supervisor, verify["id"], {"verdict": "confirmed"}).status_code == 200
    accept = only_task(acceptor, "accept")
    assert complete(acceptor, accept["id"], {"decision": "file"}).status_code == 200
    app.extensions["citycase"].engine.dispose()
    assert _verified(city) == (1, [])


def test_report_form_and_task_form_on_the_system_clock_verify(sqlite_city):
    app = webkit.make_app(sqlite_city, None)
    supervisor = app.test_client()
    webkit.login(supervisor, "supervisor1")
    lon, lat = webkit.cell_in(sqlite_city, "330191")
    response = supervisor.post("/report/mobile", data={"class_code": "E0102", "lat": f"{lat}", "lon": f"{lon}",
                                                       "coord_crs": "WGS84", "description": "垃圾"})
    assert response.status_code == 302
    number = response.headers["Location"].rsplit("/", 1)[1]
    acceptor = app.test_client()
    webkit.login(acceptor, "acceptor1")
    with sqlite_city.session() as s:
        case_id = s.scalar(select(Case.id).where(Case.number == number))
    accept = webkit.task(sqlite_city, case_id, "accept")
    html = acceptor.get(f"/tasks/{accept.id}").get_data(as_text=True)
    version = re.search(r'name="expected_version" value="(\d+)"', html).group(1)
    response = acceptor.post(f"/tasks/{accept.id}", data={"decision": "file", "note": "属实",
                                                          "expected_version": version, "spec_id": "accept"})
    assert response.status_code == 302, response.get_data(as_text=True)
    app.extensions["citycase"].engine.dispose()
    assert _verified(sqlite_city) == (1, [])

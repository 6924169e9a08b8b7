"""The supervisor's duty page, the position batch API and the shift leader's field map."""

from __future__ import annotations

import html
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.clock import SystemClock
from engine.patrol.models import Duty, Position
from engine.patrol.roster import set_shift
from tests.engine.patrol.kit import DAY, TZ, cells, walk
from tests.web.webkit import login, make_app


@pytest.fixture
def app(city, clock):
    app = make_app(city, clock)
    yield app
    app.extensions["citycase"].engine.dispose()


def _map_data(page: str) -> dict:
    raw = page.split('data-fieldmap="', 1)[1].split('"', 1)[0]
    return json.loads(html.unescape(raw))


def _count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_supervisor_starts_duty_sends_positions_and_ends_duty(app, city, clock):
    places = cells(city, 2)
    with city.session() as s:
        set_shift(s, "supervisor1", DAY, "08:30", "17:30", [c for c, _, _ in places], TZ)
    client = app.test_client()
    login(client, "supervisor1")
    page = client.get("/patrol/duty").get_data(as_text=True)
    assert "开始上班" in page and "08:30–17:30" in page
    assert client.post("/patrol/duty", data={"action": "start"}).status_code == 302
    assert "结束上班" in client.get("/patrol/duty").get_data(as_text=True)
    batch = {"points": walk(clock.now() + timedelta(minutes=1), places)}
    clock.advance(timedelta(minutes=10))
    sent = client.post("/api/v1/patrol/positions", json=batch)
    assert sent.status_code == 200 and sent.get_json()["stored"] == 6
    again = client.post("/api/v1/patrol/positions", json=batch)
    assert again.get_json() == {"received": 6, "stored": 0, "duplicates": 6, "outside_duty": 0}
    client.post("/patrol/duty", data={"action": "end"})
    with city.session() as s:
        duty = s.scalars(select(Duty)).one()
        assert duty.ended_at == clock.now()


def test_a_bad_batch_is_a_400_in_the_users_language_and_writes_nothing(app, city, clock):
    client = app.test_client()
    login(client, "supervisor1")
    client.post("/patrol/duty", data={"action": "start"})
    bad = client.post("/api/v1/patrol/positions", json={"points": [{"at": "yesterday", "lon": 1, "lat": 2}]})
    assert bad.status_code == 400 and "points.0.at" in bad.get_json()["fields"]
    not_json = client.post("/api/v1/patrol/positions", data="points=1")
    assert not_json.status_code == 415
    assert _count(city, Position) == 0


@pytest.mark.parametrize("user", ["acceptor1", "shiftleader1", "admin1"])
def test_only_supervisors_send_positions_and_use_the_duty_page(app, city, user):
    client = app.test_client()
    login(client, user)
    assert client.post("/api/v1/patrol/positions", json={"points": []}).status_code == 403
    assert client.get("/patrol/duty").status_code == 403
    assert client.post("/patrol/duty", data={"action": "start"}).status_code == 403
    assert _count(city, Duty) == 0


def test_the_field_map_shows_the_track_attendance_and_coverage_to_the_shift_leader(app, city, clock):
    places = cells(city, 3)
    with city.session() as s:
        set_shift(s, "supervisor1", DAY, "08:30", "17:30", [c for c, _, _ in places], TZ)
        set_shift(s, "supervisor3", DAY, "08:30", "17:30", [], TZ)
    phone = app.test_client()
    login(phone, "supervisor1")
    clock.advance(timedelta(minutes=20))  # 09:20: 50 minutes late
    phone.post("/patrol/duty", data={"action": "start"})
    clock.advance(timedelta(minutes=10))
    sent = phone.post("/api/v1/patrol/positions", json={"points": walk(clock.now() - timedelta(minutes=9), places)})
    assert sent.get_json()["stored"] == 9
    leader = app.test_client()
    login(leader, "shiftleader1")
    page = leader.get("/patrol/map").get_data(as_text=True)
    row = page[page.index('data-user="supervisor1"'):]
    row = row[:row.index("</tr>")]
    assert "迟到" in row and "50" in row and "3 / 3" in row
    absent = page[page.index('data-user="supervisor3"'):]
    assert "缺勤" in absent[:absent.index("</tr>")]
    drawn = _map_data(page)
    assert [(t["user"], len(t["line"])) for t in drawn["tracks"]] == [("监督员1（东湖区）", 9)]
    assert leader.get("/patrol/map?day=not-a-day").status_code == 400
    login(phone, "supervisor1")
    assert phone.get("/patrol/map").status_code == 403


def test_the_duty_page_on_the_system_clock(city):
    app = make_app(city, SystemClock())
    client = app.test_client()
    login(client, "supervisor2")
    client.post("/patrol/duty", data={"action": "start"})
    assert "结束上班" in client.get("/patrol/duty").get_data(as_text=True)
    with city.session() as s:
        duty = s.scalars(select(Duty).where(Duty.username == "supervisor2")).one()
    assert abs((duty.started_at - SystemClock().now()).total_seconds()) < 120
    app.extensions["citycase"].engine.dispose()

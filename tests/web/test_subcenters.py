"""District sub-centers (issue 15): a sub-center's acceptors, shift leaders and dispatchers see only
their district's cases — in the inbox, the case page, search, export and the API — while the city
centre sees everything and may take over; a case crossing districts goes up to the city."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook
from sqlalchemy import select

from engine.commands import complete_task
from engine.model import Actor, EngineContext
from engine.models import Event
from engine.queries.visibility import CITY_CENTER
from tests.engine.notify.helpers import add_user
from tests.factories import DISPATCHER, handler_of, task_of
from tests.web import webkit
from tests.web.test_api import sign_in, task_ids


def _two_cases(city, clock) -> tuple[dict, dict]:
    """One case in each of two districts, both waiting for the acceptor."""
    add_user(city, "acceptor_330191", "acceptor", district="330191", department="supervision_center")
    add_user(city, "acceptor_330192", "acceptor", district="330192", department="supervision_center")
    ours = webkit.supervisor_case(city, clock, "330191", description="本区案件 our case")
    theirs = webkit.supervisor_case(city, clock, "330192", description="他区案件 their case")
    return ({"id": ours.case_id, "number": ours.number, "task": webkit.task(city, ours.case_id, "accept").id},
            {"id": theirs.case_id, "number": theirs.number, "task": webkit.task(city, theirs.case_id, "accept").id})


def test_a_sub_center_sees_only_its_district_through_the_api(city, clock):
    app = webkit.make_app(city, clock)
    ours, theirs = _two_cases(city, clock)
    sub = sign_in(app, "acceptor_330191")
    assert ours["task"] in task_ids(sub) and theirs["task"] not in task_ids(sub)
    assert sub.get(f"/api/v1/cases/{ours['number']}").status_code == 200
    assert sub.get(f"/api/v1/cases/{theirs['number']}").status_code == 403
    assert sub.get(f"/api/v1/tasks/{theirs['task']}").status_code == 403
    assert sub.post(f"/api/v1/tasks/{theirs['task']}/claim", json={}).status_code == 403
    city_centre = sign_in(app, "acceptor1")  # no district: the city centre
    assert {ours["task"], theirs["task"]} <= set(task_ids(city_centre))
    assert city_centre.get(f"/api/v1/cases/{theirs['number']}").status_code == 200
    app.extensions["citycase"].engine.dispose()


def test_a_sub_center_sees_only_its_district_in_the_pages(city, clock):
    app = webkit.make_app(city, clock)
    ours, theirs = _two_cases(city, clock)
    client = app.test_client()
    webkit.login(client, "acceptor_330192")
    inbox = client.get("/inbox?tab=group").get_data(as_text=True)
    assert theirs["number"] in inbox and ours["number"] not in inbox
    assert client.get(f"/cases/{theirs['number']}").status_code == 200
    assert client.get(f"/cases/{ours['number']}").status_code == 403
    assert client.get(f"/tasks/{ours['task']}").status_code == 403
    search = client.get("/cases").get_data(as_text=True)
    assert theirs["number"] in search and ours["number"] not in search
    export = client.get("/cases/export.xlsx")
    assert export.status_code == 200
    cells = {str(c.value) for row in load_workbook(io.BytesIO(export.data)).active.iter_rows() for c in row}
    assert theirs["number"] in cells and ours["number"] not in cells
    webkit.login(client, "acceptor1")
    search = client.get("/cases").get_data(as_text=True)
    assert theirs["number"] in search and ours["number"] in search
    app.extensions["citycase"].engine.dispose()


def test_the_city_centre_takes_over_a_sub_centers_claimed_task(city, clock):
    app = webkit.make_app(city, clock)
    ours, _ = _two_cases(city, clock)
    sub = sign_in(app, "acceptor_330191")
    assert sub.post(f"/api/v1/tasks/{ours['task']}/claim", json={}).status_code == 200
    colleague = sign_in(app, "acceptor_330192")  # another sub-center cannot
    assert colleague.post(f"/api/v1/tasks/{ours['task']}/claim", json={"take_over": True}).status_code == 403
    city_centre = sign_in(app, "acceptor1")
    assert city_centre.post(f"/api/v1/tasks/{ours['task']}/claim", json={}).status_code == 403  # not by accident
    assert city_centre.post(f"/api/v1/tasks/{ours['task']}/claim", json={"take_over": True}).status_code == 200
    with city.session() as s:
        claims = [json.loads(d) for d in s.scalars(select(Event.data).where(Event.case_id == ours["id"],
                                                                             Event.kind == "claim"))]
        assert claims[-1] == {"taken_over_from": "acceptor_330191"}
        assert task_of(s, ours["id"], "accept").assignee == "acceptor1"
    assert sub.post(f"/api/v1/tasks/{ours['task']}/complete",
                    json={"data": {"decision": "file"}, "version": 1}).status_code == 403  # no longer theirs
    app.extensions["citycase"].engine.dispose()


def test_a_case_crossing_districts_goes_up_to_the_city(city, clock):
    add_user(city, "dispatcher_330191", "dispatcher", district="330191", department="command_center")
    ctx = EngineContext(clock)
    started = webkit.supervisor_case(city, clock, "330191")
    sub = Actor("dispatcher_330191", "dispatcher", "command_center", "330191")

    def do(spec: str, data: dict, actor: Actor) -> None:
        with city.session() as s:
            complete_task(s, ctx, task_of(s, started.case_id, spec).id, actor, data)

    do("accept", {"decision": "file"}, Actor("acceptor1", "acceptor", "supervision_center"))
    do("file", {"decision": "file"}, Actor("shiftleader1", "shift_leader", "supervision_center"))
    assert webkit.task(city, started.case_id, "dispatch").district_code == "330191"  # the sub-center's own
    do("dispatch", {"department": "sanitation@330192"}, sub)  # another district's unit
    do("handle", {"outcome": "return", "result": "不属于本单位"}, handler_of("sanitation@330192"))
    approve = webkit.task(city, started.case_id, "approve_return")
    assert approve.district_code == CITY_CENTER  # up to the city: the sub-center no longer sees it
    app = webkit.make_app(city, clock)
    assert approve.id not in task_ids(sign_in(app, "dispatcher_330191"))
    assert approve.id in task_ids(sign_in(app, DISPATCHER.username))
    app.extensions["citycase"].engine.dispose()


def test_a_sub_centers_evaluation_shows_its_own_district(city, clock):
    from engine.models import Region

    _two_cases(city, clock)
    add_user(city, "shiftleader_330191", "shift_leader", district="330191", department="supervision_center")
    with city.session() as s:
        names = dict(s.execute(select(Region.code, Region.name).where(Region.level == "district")).tuples().all())
    app = webkit.make_app(city, clock)
    client = app.test_client()
    webkit.login(client, "shiftleader_330191")
    page = client.get("/stats?month=2026-11&kind=street")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    streets = {code: name for code, name in _streets(city).items()}
    assert any(name in html for code, name in streets.items() if code.startswith("330191"))
    assert not any(name in html for code, name in streets.items() if not code.startswith("330191"))
    assert client.get("/stats?month=2026-11&kind=department").status_code == 403
    assert client.get("/stats/cases?month=2026-11&kind=district&key=330192&metric=reported").status_code == 403
    webkit.login(client, "shiftleader1")  # the city centre sees every district
    html = client.get("/stats?month=2026-11&kind=district").get_data(as_text=True)
    assert names["330191"] in html and names["330192"] in html
    app.extensions["citycase"].engine.dispose()


def _streets(city) -> dict[str, str]:
    from engine.models import Region

    with city.session() as s:
        return dict(s.execute(select(Region.code, Region.name).where(Region.level == "street")).tuples().all())


def test_a_sub_centers_wall_screen_shows_its_district_and_hotspots_stay_city_wide(city, clock):
    ours, theirs = _two_cases(city, clock)
    add_user(city, "dispatcher_330192", "dispatcher", district="330192", department="command_center")
    app = webkit.make_app(city, clock)
    client = app.test_client()
    webkit.login(client, "dispatcher_330192")
    data = client.get("/command/data.json").get_json()
    assert [r["number"] for r in data["latest"]] == [theirs["number"]]
    assert data["today"]["reported"] == 1 and data["open_cases"] == 1
    webkit.login(client, "dispatcher1")  # the city centre
    data = client.get("/command/data.json").get_json()
    assert {ours["number"], theirs["number"]} <= {r["number"] for r in data["latest"]}
    assert data["today"]["reported"] == 2
    add_user(city, "shiftleader_330192", "shift_leader", district="330192", department="supervision_center")
    webkit.login(client, "shiftleader_330192")
    assert client.get("/stats/hotspots").status_code == 403
    webkit.login(client, "shiftleader1")
    assert client.get("/stats/hotspots").status_code == 200
    app.extensions["citycase"].engine.dispose()

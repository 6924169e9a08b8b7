"""POST /api/v1/tasks/{id}/assign: a department's leader gives the handling task to a named handler
and moves it on with a reason; outsiders get 403, a stale view 409, a wrong person 400."""

from __future__ import annotations

from engine.model import EngineContext
from tests.factories import CaseDriver, task_of
from tests.web.test_api import conforms, sign_in, task_ids

DEPT = "sanitation@330191"
PATH = "/tasks/{task_id}/assign"


def _handle_task(city, clock) -> str:
    d = CaseDriver(city, EngineContext(clock))
    d.start()
    d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": DEPT})
    with city.session() as s:
        return task_of(s, d.case_id, "handle").id


def _assign(client, task_id: str, **body):
    r = client.post(f"/api/v1/tasks/{task_id}/assign", json=body)
    conforms(r, PATH, "post")
    return r


def test_leader_assigns_and_reassigns_through_the_api(app, city, clock):
    task_id = _handle_task(city, clock)
    leader = sign_in(app, "leader_sanitation_330191")
    first, second = sign_in(app, "handler_sanitation_330191"), sign_in(app, "handler2_sanitation_330191")

    r = _assign(leader, task_id, assignee="handler2_sanitation_330191", expected_assignee=None)
    assert r.status_code == 200 and r.get_json() == {"task_id": task_id, "assignee": "handler2_sanitation_330191"}
    assert task_ids(second, scope="mine") == [task_id] and task_id not in task_ids(first)
    assert first.post(f"/api/v1/tasks/{task_id}/claim", json={}).status_code == 403

    # a second leader's page still showed the task unassigned: 409, nothing changes
    r = _assign(leader, task_id, assignee="handler_sanitation_330191", expected_assignee=None, reason="换人")
    assert r.status_code == 409
    r = _assign(leader, task_id, assignee="handler_sanitation_330191", expected_assignee="handler2_sanitation_330191")
    assert r.status_code == 400 and "reason" in r.get_json()["fields"]
    r = _assign(leader, task_id, assignee="handler_sanitation_330191", expected_assignee="handler2_sanitation_330191",
                reason="李师傅在现场附近")
    assert r.status_code == 200 and task_ids(first, scope="mine") == [task_id]


def test_who_may_assign_and_to_whom(app, city, clock):
    task_id = _handle_task(city, clock)
    body = {"assignee": "handler2_sanitation_330191", "expected_assignee": None}
    for outsider in ("handler_sanitation_330191", "leader_sanitation_330192", "dispatcher1", "leader1"):
        assert _assign(sign_in(app, outsider), task_id, **body).status_code == 403, outsider
    leader = sign_in(app, "leader_sanitation_330191")
    r = _assign(leader, task_id, assignee="handler_sanitation_330192", expected_assignee=None)
    assert r.status_code == 400 and "assignee" in r.get_json()["fields"]
    assert _assign(leader, task_id, assignee="x").status_code == 400  # expected_assignee is required
    assert _assign(leader, "no-such-task", **body).status_code == 409


def test_the_api_lists_who_a_task_may_go_to(app, city, clock):
    task_id = _handle_task(city, clock)
    leader = sign_in(app, "leader_sanitation_330191")
    r = leader.get(f"/api/v1/tasks/{task_id}/assignees")
    conforms(r, "/tasks/{task_id}/assignees", "get")
    body = r.get_json()
    assert body["assignee"] is None
    assert [p["username"] for p in body["people"]] == ["handler2_sanitation_330191", "handler_sanitation_330191"]
    # the same people the assign command accepts: assigning to the first listed works
    assert _assign(leader, task_id, assignee=body["people"][0]["username"], expected_assignee=None).status_code == 200
    other = sign_in(app, "leader_municipal")
    assert other.get(f"/api/v1/tasks/{task_id}/assignees").status_code == 403
    assert sign_in(app, "dispatcher1").get(f"/api/v1/tasks/{task_id}/assignees").status_code == 403
    assert leader.get("/api/v1/tasks/no-such-task/assignees").status_code == 404

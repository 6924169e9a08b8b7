"""The department leader's 部门任务 page: assign the handling task to a named handler, reassign
with a reason; the handler finds it in "My tasks"; the case history reads "派给 <name>"."""

from __future__ import annotations

import re

from engine.model import EngineContext
from tests.factories import CaseDriver, task_of
from tests.web.webkit import login, make_app

DEPT = "sanitation@330191"


def _handle_task(db, clock) -> tuple[str, str]:
    d = CaseDriver(db, EngineContext(clock))
    d.start()
    d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": DEPT})
    with db.session() as s:
        return task_of(s, d.case_id, "handle").id, d.case().number


def _mine(client) -> list[str]:
    html = client.get("/inbox?tab=mine").get_data(as_text=True)
    return re.findall(r'<tr class="task[^"]*" data-task="([0-9a-f-]+)"', html)


def test_leader_assigns_then_reassigns_and_the_history_names_the_person(sqlite_city, clock):
    task_id, number = _handle_task(sqlite_city, clock)
    app = make_app(sqlite_city, clock)
    leader, first, second = app.test_client(), app.test_client(), app.test_client()
    login(leader, "leader_sanitation_330191")
    login(first, "handler_sanitation_330191")
    login(second, "handler2_sanitation_330191")

    page = leader.get("/inbox").get_data(as_text=True)
    assert "部门任务" in page
    page = leader.get("/inbox/department").get_data(as_text=True)
    assert f'data-task="{task_id}"' in page and "尚未指派" in page and "处置员2" in page

    done = leader.post(f"/tasks/{task_id}/assign", data={"assignee": "handler2_sanitation_330191", "expected": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "已派给" in done and "处置员2" in done
    assert _mine(second) == [task_id] and task_id not in first.get("/inbox?tab=group").get_data(as_text=True)

    # Moving it on without a reason is refused in the user's words; nothing changes.
    refused = leader.post(f"/tasks/{task_id}/assign", data={"assignee": "handler_sanitation_330191",
                                                           "expected": "handler2_sanitation_330191"},
                          follow_redirects=True).get_data(as_text=True)
    assert "任务未指派：" in refused and "say why" not in refused and _mine(second) == [task_id]
    # A page that still shows the task unassigned: the change meanwhile is reported, nothing changes.
    stale = leader.post(f"/tasks/{task_id}/assign", data={"assignee": "handler_sanitation_330191", "expected": "",
                                                         "reason": "换人"},
                        follow_redirects=True).get_data(as_text=True)
    assert "任务已被他人改动" in stale and _mine(second) == [task_id]
    leader.post(f"/tasks/{task_id}/assign", data={"assignee": "handler_sanitation_330191",
                                                 "expected": "handler2_sanitation_330191", "reason": "就近处置"})
    assert _mine(first) == [task_id] and _mine(second) == []

    history = leader.get(f"/cases/{number}").get_data(as_text=True)
    assert "指派" in history and "派给" in history and "就近处置" in history
    assert "handler2_sanitation_330191" not in history  # names, not accounts


def test_only_a_departments_leader_opens_the_page(sqlite_city, clock):
    task_id, _number = _handle_task(sqlite_city, clock)
    app = make_app(sqlite_city, clock)
    for user in ("handler_sanitation_330191", "leader1", "dispatcher1"):
        client = app.test_client()
        login(client, user)
        assert client.get("/inbox/department").status_code == 403, user
        r = client.post(f"/tasks/{task_id}/assign", data={"assignee": "handler2_sanitation_330191", "expected": ""})
        assert r.status_code in (302, 403)
        if r.status_code == 302:
            assert "handler2" not in client.get("/inbox?tab=mine").get_data(as_text=True)
    other = app.test_client()
    login(other, "leader_sanitation_330192")
    assert f'data-task="{task_id}"' not in other.get("/inbox/department").get_data(as_text=True)

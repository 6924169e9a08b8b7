"""Designer pages: roles, four eyes, proposals from the editor and from uploads, diff, migration, CSRF."""

from __future__ import annotations

import io
import re

import pytest

from engine.designer import lifecycle
from engine.models import Case, Department
from tests.engine.designer.helpers import bpmn_files, with_department, with_first_limit
from tests.web.webkit import csrf_token, login, make_app, supervisor_case


@pytest.fixture
def client(city, clock):
    app = make_app(city, clock)
    yield app.test_client()
    app.extensions["citycase"].engine.dispose()


def _propose(client, text: str, name: str = "dispatch.dmn", base: int = 1):
    return client.post("/designer/proposals", json={"base": base, "name": name, "text": text})


def test_roles(client):
    login(client, "dispatcher1")
    assert client.get("/designer/").status_code == 403
    for reader in ("leader1", "auditor1"):
        login(client, reader)
        page = client.get("/designer/")
        assert page.status_code == 200
        assert "/designer/upload" not in page.get_data(as_text=True)
        assert client.post("/designer/versions/1/rollback").status_code == 403
        assert _propose(client, "x").status_code == 403
        assert client.get("/designer/versions/1/files/dispatch.dmn").status_code == 200


def test_save_from_editor_then_four_eyes_approval_and_diff(client, city, clock):
    case = supervisor_case(city, clock)
    login(client, "designer1")
    editor = client.get("/designer/versions/1/edit/dispatch.dmn")
    assert editor.status_code == 200 and "<script>" not in editor.get_data(as_text=True)
    assert "script-src 'self';" in editor.headers["Content-Security-Policy"]
    changed = with_department(bpmn_files(), "E0102", "sanitation@330192")["dispatch.dmn"]
    saved = _propose(client, changed)
    assert saved.status_code == 201
    new_id = saved.get_json()["id"]
    refused = client.post(f"/designer/versions/{new_id}/approve")  # by the proposer
    assert refused.status_code == 403 and "须由另一位设计员批准" in refused.get_data(as_text=True)
    login(client, "designer2")
    assert client.post(f"/designer/versions/{new_id}/approve").status_code == 302
    listing = client.get("/designer/").get_data(as_text=True)
    assert re.search(rf"#{new_id}</a>.*?badge-active", listing, re.S)
    diff = client.get(f"/designer/diff?a=1&b={new_id}").get_data(as_text=True)
    assert "Rule_dispatch_34" in diff and "sanitation@330192" in diff
    plan = client.get(f"/designer/versions/{new_id}/migrate").get_data(as_text=True)
    assert case.number in plan
    assert client.post(f"/designer/versions/{new_id}/migrate").status_code == 200
    with city.session() as s:
        assert s.get(Case, case.case_id).definition_id == new_id


def test_invalid_and_malicious_files_are_refused_with_elements(client, city):
    login(client, "designer1")
    bad = bpmn_files()["dispatch.dmn"].replace('"water_supply"', '().__class__.__mro__', 1)
    refused = _propose(client, bad)
    assert refused.status_code == 422
    assert [(p["kind"], p["element_id"]) for p in refused.get_json()["problems"]] == [("malicious", "Out_dispatch_1_0")]
    xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    page = client.post("/designer/upload", data={"files": (io.BytesIO(xxe.encode()), "dispatch.dmn")},
                       content_type="multipart/form-data")
    assert page.status_code == 422
    assert "DOCTYPE" in page.get_data(as_text=True)
    with city.session() as s:  # nothing was stored
        assert [v.id for v in lifecycle.list_versions(s)] == [1]
    assert client.get("/designer/").get_data(as_text=True).count("badge-proposed") == 0


def test_csrf_is_required(city, clock):
    app = make_app(city, clock, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login")
    client.post("/login", data={"username": "designer1", "password": "demo1234", "csrf_token": csrf_token(
        page.get_data(as_text=True))})
    assert client.post("/designer/versions/1/rollback").status_code == 400
    assert _propose(client, bpmn_files()["dispatch.dmn"]).status_code == 400
    token = csrf_token(client.get("/designer/").get_data(as_text=True))
    assert client.post("/designer/versions/1/rollback", data={"csrf_token": token}).status_code == 409  # active
    app.extensions["citycase"].engine.dispose()


def test_whatif_page_compares_two_versions(client, city, clock):
    login(client, "designer1")
    changed = with_department(bpmn_files(), "E0102", "sanitation@330192")["dispatch.dmn"]
    new_id = _propose(client, changed).get_json()["id"]
    for _ in range(3):  # real reports of today, for the replay
        supervisor_case(city, clock, class_code="E0102")
    assert client.get("/designer/whatif").status_code == 200
    page = client.post("/designer/whatif", data={"a": 1, "b": new_id, "days": 1, "per_day": 10, "seed": 2,
                                                  "replay_days": 2})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f"#{new_id}</th>" in html and html.count("<table class=\"whatif\">") == 2
    replayed = html.split('<table class="whatif">')[2]  # the replay: three real reports, on both versions
    assert "最近 2 天的真实上报（重放）" in replayed
    assert re.search(r"<th>[^<]*</th><td>3</td><td>3</td>", replayed)
    with city.session() as s:
        name = s.get(Department, "sanitation@330192").name
    assert f"{name}</th><td>0</td><td>3</td>" in replayed  # the changed department, by its name
    login(client, "auditor1")
    assert client.get("/designer/whatif").status_code == 403


def test_migration_runs_in_batches_with_progress_and_a_failing_case_loses_no_other(city, clock, monkeypatch):
    from engine.designer import migration

    app = make_app(city, clock, MIGRATION_BATCH=2)
    client = app.test_client()
    cases = [supervisor_case(city, clock) for _ in range(5)]
    login(client, "designer1")
    new_id = _propose(client, with_department(bpmn_files(), "E0102", "sanitation@330192")["dispatch.dmn"]).get_json()["id"]
    login(client, "designer2")
    client.post(f"/designer/versions/{new_id}/approve")
    page = client.get(f"/designer/versions/{new_id}/migrate").get_data(as_text=True)
    assert 'name="total" value="5"' in page and "designer/pages.js" in page
    real_move, broken = migration.move, cases[2].case_id

    def move(session, case_id, *args):
        if case_id == broken:
            raise RuntimeError("state cannot be read")
        return real_move(session, case_id, *args)

    monkeypatch.setattr(migration, "move", move)
    after, seen, failed = 0, [], []
    while True:  # what the page's script does: batch after batch until the server says done
        batch = client.post(f"/designer/versions/{new_id}/migrate", data={"after": after, "total": 5},
                            headers={"Accept": "application/json"}).get_json()
        seen.append(5 - batch["remaining"])
        failed += batch["failed_text"]
        if not batch["next_after"]:
            break
        after = batch["next_after"]
    assert seen == [2, 4, 5]  # progress after each batch of two
    assert failed == [f"{cases[2].number} 迁移失败：RuntimeError: state cannot be read"]
    with city.session() as s:
        on_new = {c.id for c in s.query(Case).filter(Case.definition_id == new_id)}
    assert on_new == {c.case_id for c in cases} - {broken}
    # Without script: one batch per request, with a button for the next.
    page = client.post(f"/designer/versions/{new_id}/migrate", data={"after": 0}).get_data(as_text=True)
    assert "<progress" in page and "迁移失败" in page
    app.extensions["citycase"].engine.dispose()


@pytest.mark.parametrize(("name", "edit", "element", "chinese"), [
    ("dispatch.dmn", lambda f: '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
     None, "文件声明了 DOCTYPE 或实体"),
    ("case_lifecycle.bpmn", lambda f: f["case_lifecycle.bpmn"].replace(
        '<bpmn:lane id="Lane_acceptor" name="acceptor">', '<bpmn:lane id="Lane_acceptor" name="tea_room">', 1),
     "accept", "该用户任务位于泳道“tea_room”"),
    ("dispatch.dmn", lambda f: f["dispatch.dmn"].replace('<text>"water_supply"</text>', "<text>42</text>", 1),
     "Out_dispatch_1_0", "42 不是输出“suggested_department”的有效 string 值"),
    ("time_limits.dmn", lambda f: with_first_limit(f, "0")["time_limits.dmn"],
     "Rule_time_limits_1", "时限 handle_limit 必须大于零（当前为 0）"),
    ("case_lifecycle.bpmn", lambda f: f["case_lifecycle.bpmn"].replace(
        "</bpmn:process>", '<bpmn:endEvent id="orphan_end" name="孤立" /></bpmn:process>', 1),
     "orphan_end", "从开始事件出发没有路径能到达该元素"),
])
def test_upload_problems_are_shown_in_the_designers_language(client, city, name, edit, element, chinese):
    login(client, "designer1")
    text = edit(bpmn_files())
    page = client.post("/designer/upload", data={"files": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and chinese in html
    if element:
        assert f"<code>#{element}</code>" in html
    with city.session() as s:  # nothing was stored
        assert [v.id for v in lifecycle.list_versions(s)] == [1]
    client.post("/language", data={"lang": "en"})
    english = client.post("/designer/upload", data={"files": (io.BytesIO(text.encode()), name)},
                          content_type="multipart/form-data").get_data(as_text=True)
    assert chinese not in english and "The files have problems" in english

"""The task form page: rendering from form-js, completing, validation errors, conflicts, photos."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.commands import supervise
from engine.model import EngineContext
from engine.models import Attachment, Event
from tests.factories import CaseDriver, leader_of
from tests.web.webkit import jpeg_bytes, login, make_app, supervisor_case, task, tasks_of


def _version(html: str) -> str:
    return re.search(r'name="expected_version" value="(\d+)"', html).group(1)


def _handle_stage(db, clock) -> CaseDriver:
    driver = CaseDriver(db, EngineContext(clock))
    driver.start()
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": "sanitation@330191"})
    return driver


def test_complete_a_task_through_the_form(sqlite_city, clock):
    case = supervisor_case(sqlite_city, clock)
    accept = task(sqlite_city, case.case_id, "accept")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    html = client.get(f"/tasks/{accept.id}").get_data(as_text=True)
    assert "受理意见" in html and "建议立案" in html and 'class="required"' in html
    response = client.post(f"/tasks/{accept.id}", data={"decision": "file", "note": "属实", "expected_version":
                                                        _version(html), "csrf_token": "ignored", "spec_id": "accept"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    assert [t.spec_id for t in tasks_of(sqlite_city, case.case_id)] == ["file"]
    with sqlite_city.session() as s:
        event = s.scalars(select(Event).where(Event.case_id == case.case_id).order_by(Event.seq.desc())).first()
        assert event.kind == "complete" and event.actor == "acceptor1" and "属实" in event.data
    assert "已办理" in client.get("/inbox").get_data(as_text=True)


def test_form_in_english(sqlite_city, clock):
    case = supervisor_case(sqlite_city, clock)
    accept = task(sqlite_city, case.case_id, "accept")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    client.post("/language", data={"lang": "en"})
    html = client.get(f"/tasks/{accept.id}").get_data(as_text=True)
    assert "Acceptance decision" in html and "Recommend filing" in html and "受理意见" not in html


def test_validation_errors_keep_the_input(sqlite_city, clock):
    driver = _handle_stage(sqlite_city, clock)
    handle = task(sqlite_city, driver.case_id, "handle")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "handler_sanitation_330191")
    html = client.get(f"/tasks/{handle.id}").get_data(as_text=True)
    # The conditional fields are marked for the page script and hidden at first.
    assert 'data-hide-key="outcome"' in html
    assert re.search(r'data-key="extension_amount"[^>]*hidden', html, re.S)
    response = client.post(f"/tasks/{handle.id}", data={
        "outcome": "extend", "result": "需要更多时间 needs time", "extension_amount": "",
        "expected_version": _version(html)})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请修改标出的字段" in page
    assert "需要更多时间 needs time</textarea>" in page
    assert re.search(r'value="extend"\s+checked', page)
    assert re.search(r'data-key="extension_amount".*?必填', page, re.S)
    assert not re.search(r'data-key="extension_amount"[^>]*hidden', page, re.S)  # shown: outcome is extend
    assert [t.spec_id for t in tasks_of(sqlite_city, driver.case_id)] == ["handle"]


def test_conflict_when_completed_meanwhile(sqlite_city, clock):
    case = supervisor_case(sqlite_city, clock)
    accept = task(sqlite_city, case.case_id, "accept")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    html = client.get(f"/tasks/{accept.id}").get_data(as_text=True)
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    driver.case_id = case.case_id
    driver.do("accept", {"decision": "file"})  # someone else was faster
    response = client.post(f"/tasks/{accept.id}", data={
        "decision": "void", "note": "我写的备注", "expected_version": _version(html), "case_number": case.number,
        "spec_id": "accept"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "案卷已被他人处理" in page and "我写的备注" in page and 'href="/inbox"' in page
    assert [t.spec_id for t in tasks_of(sqlite_city, case.case_id)] == ["file"]


def test_conflict_when_the_case_changed_since_opening(sqlite_city, clock):
    driver = _handle_stage(sqlite_city, clock)
    handle = task(sqlite_city, driver.case_id, "handle")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "handler_sanitation_330191")
    html = client.get(f"/tasks/{handle.id}").get_data(as_text=True)
    with sqlite_city.session() as s:
        supervise(s, EngineContext(clock), driver.case_id, leader_of("sanitation@330191"), "remind", "快点")
    response = client.post(f"/tasks/{handle.id}", data={"outcome": "done", "result": "已清理干净",
                                                        "expected_version": _version(html)})
    assert response.status_code == 409
    assert "已清理干净" in response.get_data(as_text=True)
    assert "handle" in [t.spec_id for t in tasks_of(sqlite_city, driver.case_id)]


@pytest.mark.parametrize("version", ["abc", "", "1.5", "-1"])
def test_a_missing_or_malformed_version_is_refused_not_skipped(sqlite_city, clock, version):
    driver = _handle_stage(sqlite_city, clock)
    handle = task(sqlite_city, driver.case_id, "handle")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "handler_sanitation_330191")
    client.get(f"/tasks/{handle.id}")
    data = {"outcome": "done", "result": "已清理干净"} | ({"expected_version": version} if version else {})
    response = client.post(f"/tasks/{handle.id}", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "已清理干净" in page and ("Reload" in page or "重新" in page or "reload" in page)
    assert "handle" in [t.spec_id for t in tasks_of(sqlite_city, driver.case_id)]


def test_a_refused_completion_does_not_keep_the_photos_sent_with_it(sqlite_city, clock):
    import io

    driver = _handle_stage(sqlite_city, clock)
    handle = task(sqlite_city, driver.case_id, "handle")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "handler_sanitation_330191")
    client.get(f"/tasks/{handle.id}")
    with sqlite_city.session() as s:
        before = len(s.scalars(select(Attachment)).all())
    response = client.post(f"/tasks/{handle.id}", content_type="multipart/form-data", data={
        "outcome": "nonsense", "result": "x", "expected_version": "999",
        "photos__files": [(io.BytesIO(jpeg_bytes()), "a.jpg")]})
    assert response.status_code in (400, 409)
    with sqlite_city.session() as s:
        assert len(s.scalars(select(Attachment)).all()) == before


def test_gone_task_page_is_friendly(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    response = client.get("/tasks/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "该任务已不存在" in response.get_data(as_text=True)


def test_dispatch_preselects_the_suggested_department(sqlite_city, clock):
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    driver.start()
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    dispatch = task(sqlite_city, driver.case_id, "dispatch")
    with sqlite_city.session() as s:
        from engine.queries.process_data import task_data

        suggestion = task_data(s, dispatch.id).get("suggested_department")
    assert suggestion
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")
    html = client.get(f"/tasks/{dispatch.id}").get_data(as_text=True)
    selected = re.findall(r'<option value="([^"]+)" selected>', html)
    assert selected == [suggestion]
    response = client.post(f"/tasks/{dispatch.id}", data={"department": suggestion,
                                                          "expected_version": _version(html)})
    assert response.status_code == 302
    assert task(sqlite_city, driver.case_id, "handle").department_code == suggestion


def test_handle_with_after_photos_uploaded_first(sqlite_city, clock):
    driver = _handle_stage(sqlite_city, clock)
    handle = task(sqlite_city, driver.case_id, "handle")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "handler_sanitation_330191")
    html = client.get(f"/tasks/{handle.id}").get_data(as_text=True)
    tokens = []
    for _ in range(2):
        up = client.post("/attachments", data={"stage": "handle", "file": (__import__("io").BytesIO(jpeg_bytes()),
                                                                            "after.jpg")})
        assert up.status_code == 201
        tokens.append(up.get_json()["token"])
    response = client.post(f"/tasks/{handle.id}", data={"outcome": "done", "result": "已清理",
                                                        "photos": ",".join(tokens),
                                                        "expected_version": _version(html)})
    assert response.status_code == 302
    with sqlite_city.session() as s:
        rows = s.scalars(select(Attachment).where(Attachment.token.in_(tokens))).all()
        assert {r.case_id for r in rows} == {driver.case_id} and {r.stage for r in rows} == {"handle"}
    # The case page shows them as "after" photos.
    login(client, "dispatcher1")
    page = client.get(f"/cases/{driver.case().number}").get_data(as_text=True)
    after = page.split("处置后", 1)[1]
    assert all(t in after for t in tokens)


def test_handle_with_photos_sent_with_the_form(sqlite_city, clock):
    import io

    driver = _handle_stage(sqlite_city, clock)
    handle = task(sqlite_city, driver.case_id, "handle")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "handler_sanitation_330191")
    html = client.get(f"/tasks/{handle.id}").get_data(as_text=True)
    response = client.post(f"/tasks/{handle.id}", content_type="multipart/form-data", data={
        "outcome": "done", "result": "已清理", "photos": "", "expected_version": _version(html),
        "photos__files": [(io.BytesIO(jpeg_bytes()), "a.jpg"), (io.BytesIO(jpeg_bytes(fmt="PNG")), "b.png")]})
    assert response.status_code == 302
    with sqlite_city.session() as s:
        rows = s.scalars(select(Attachment).where(Attachment.case_id == driver.case_id)).all()
        assert sorted(r.content_type for r in rows) == ["image/jpeg", "image/png"]


def test_a_bad_photo_with_the_form_is_a_field_error(sqlite_city, clock):
    import io

    driver = _handle_stage(sqlite_city, clock)
    handle = task(sqlite_city, driver.case_id, "handle")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "handler_sanitation_330191")
    html = client.get(f"/tasks/{handle.id}").get_data(as_text=True)
    response = client.post(f"/tasks/{handle.id}", content_type="multipart/form-data", data={
        "outcome": "done", "result": "保留这段文字", "expected_version": _version(html),
        "photos__files": [(io.BytesIO(b"not an image"), "a.jpg")]})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "保留这段文字" in page and "JPEG" in page


def test_conflict_in_the_race_window_keeps_the_input(city, clock, monkeypatch):
    """The task is still there when the page loads it, and gone when the command runs.

    A colleague can commit inside that window only where writers do not wait for each other: on
    PostgreSQL. On SQLite the request holds the write lock from BEGIN (IMMEDIATE), so the colleague
    waits and this request's own version check sees nothing changed."""
    if city.backend == "sqlite":
        pytest.skip("SQLite serialises writing requests: no colleague can commit inside the window")
    sqlite_city = city
    import web.inbox.task_form as task_form
    from engine.errors import Conflict

    case = supervisor_case(sqlite_city, clock)
    accept = task(sqlite_city, case.case_id, "accept")
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    driver.case_id = case.case_id

    def faster_colleague(*args, **kwargs):
        driver.do("accept", {"decision": "file"})
        raise Conflict("task is no longer open")

    monkeypatch.setattr(task_form, "complete_task", faster_colleague)
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    html = client.get(f"/tasks/{accept.id}").get_data(as_text=True)
    response = client.post(f"/tasks/{accept.id}", data={"decision": "void", "note": "竞态备注",
                                                        "expected_version": _version(html)})
    assert response.status_code == 409
    assert "竞态备注" in response.get_data(as_text=True)

"""Decision forms show what is decided: the department's reason, the extension asked for, the work
and its photos before a check, and the earlier rounds — on the task page itself."""

from __future__ import annotations

import io
import re

from engine.model import EngineContext
from tests.factories import CaseDriver
from tests.web.webkit import jpeg_bytes, login, make_app, task


def _dispatched(db, clock) -> CaseDriver:
    driver = CaseDriver(db, EngineContext(clock))
    driver.start(description="路边暴露垃圾")
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": "sanitation@330191"})
    return driver


def _request_section(html: str) -> str:
    match = re.search(r'<section class="decision-request".*?</section>', html, re.S)
    assert match, "the task page shows no request to decide"
    return match.group(0)


def test_return_approval_shows_the_departments_reason(sqlite_city, clock):
    driver = _dispatched(sqlite_city, clock)
    driver.do("handle", {"outcome": "return", "result": "该路段不属于本部门养护范围"})
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")
    html = client.get(f"/tasks/{task(sqlite_city, driver.case_id, 'approve_return').id}").get_data(as_text=True)
    section = _request_section(html)
    assert "该路段不属于本部门养护范围" in section and "申请回退" in section


def test_extension_approval_shows_the_extension_asked_for(sqlite_city, clock):
    driver = _dispatched(sqlite_city, clock)
    driver.do("handle", {"outcome": "extend", "result": "需要采购配件", "extension_amount": 3,
                         "extension_unit": "workday"})
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")
    html = client.get(f"/tasks/{task(sqlite_city, driver.case_id, 'approve_extension').id}").get_data(as_text=True)
    section = _request_section(html)
    assert re.search(r"延期时长</dt><dd>3</dd>", section) and "工作日" in section and "需要采购配件" in section


def test_check_shows_the_work_its_photos_and_the_earlier_round(sqlite_city, clock):
    driver = _dispatched(sqlite_city, clock)
    driver.do("handle", {"outcome": "done", "result": "第一次处置"})
    driver.do("check", {"verdict": "failed", "note": "垃圾仍在"})
    handler = make_app(sqlite_city, clock).test_client()
    login(handler, "handler_sanitation_330191")
    token = handler.post("/attachments", data={"stage": "handle", "file": (io.BytesIO(jpeg_bytes()), "a.jpg")}
                         ).get_json()["token"]
    handle = task(sqlite_city, driver.case_id, "handle")
    version = re.search(r'name="expected_version" value="(\d+)"',
                        handler.get(f"/tasks/{handle.id}").get_data(as_text=True)).group(1)
    assert handler.post(f"/tasks/{handle.id}", data={"outcome": "done", "result": "第二次处置", "photos": token,
                                                     "expected_version": version}).status_code == 302
    supervisor = make_app(sqlite_city, clock).test_client()
    login(supervisor, "supervisor1")
    section = _request_section(
        supervisor.get(f"/tasks/{task(sqlite_city, driver.case_id, 'check').id}").get_data(as_text=True))
    request, earlier = section.split('<details class="earlier">', 1)
    assert "第二次处置" in request and token in request and "第一次处置" not in request
    assert "第一次处置" in earlier and "垃圾仍在" in earlier
    assert supervisor.get(f"/attachments/{token}?thumb=1").status_code == 200

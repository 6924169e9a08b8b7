"""Printing and exporting: the case sheet (one A4 page), the case list as Excel, and a history in
users' words (no timer ids or anonymous ids, photos as thumbnails)."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from engine.model import EngineContext
from tests.factories import CaseDriver
from tests.web.webkit import jpeg_bytes, login, make_app, task


def _handled(db, clock, description: str = "路边暴露垃圾") -> CaseDriver:
    driver = CaseDriver(db, EngineContext(clock))
    driver.start(description=description)
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": "sanitation@330191"})
    return driver


def test_case_sheet_has_facts_sketch_and_history(sqlite_city, clock):
    driver = _handled(sqlite_city, clock)
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")
    number = driver.case().number
    assert f"/cases/{number}/sheet" in client.get(f"/cases/{number}").get_data(as_text=True)
    html = client.get(f"/cases/{number}/sheet").get_data(as_text=True)
    assert "案卷处理单" in html and number in html and "路边暴露垃圾" in html
    assert re.search(r'<polygon points="[\d., ]+"', html) and "<circle" in html
    history = html.split('class="sheet-history"', 1)[1]
    assert "派遣" in history and "环境卫生管理处" in history  # the dispatch step and the department chosen
    outsider = make_app(sqlite_city, clock).test_client()
    login(outsider, "handler_sanitation_330192")
    assert outsider.get(f"/cases/{number}/sheet").status_code == 403


def test_case_list_exports_the_filtered_cases_to_excel(sqlite_city, clock):
    wanted = _handled(sqlite_city, clock, description="井盖缺失 东湖")
    other = _handled(sqlite_city, clock, description="路边垃圾")
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")
    page = client.get("/cases?keyword=井盖").get_data(as_text=True)
    assert "/cases/export.xlsx?keyword=" in page
    response = client.get("/cases/export.xlsx?keyword=井盖")
    assert response.status_code == 200 and "spreadsheetml" in response.mimetype
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "案卷" and len(rows) == 2
    assert rows[1][0] == wanted.case().number and rows[1][8] == "井盖缺失 东湖"
    assert other.case().number not in [r[0] for r in rows]


def test_history_is_in_users_words_with_thumbnails(sqlite_city, clock):
    driver = _handled(sqlite_city, clock)
    handler = make_app(sqlite_city, clock).test_client()
    login(handler, "handler_sanitation_330191")
    token = handler.post("/attachments", data={"stage": "handle", "file": (io.BytesIO(jpeg_bytes()), "a.jpg")}
                         ).get_json()["token"]
    handle = task(sqlite_city, driver.case_id, "handle")
    version = re.search(r'name="expected_version" value="(\d+)"',
                        handler.get(f"/tasks/{handle.id}").get_data(as_text=True)).group(1)
    handler.post(f"/tasks/{handle.id}", data={"outcome": "done", "result": "已清理", "photos": token,
                                              "expected_version": version})
    client = make_app(sqlite_city, clock).test_client()
    login(client, "dispatcher1")
    html = client.get(f"/cases/{driver.case().number}").get_data(as_text=True)
    timeline = html.split('<ol class="timeline">', 1)[1]
    assert f"/attachments/{token}?thumb=1" in timeline and "张照片" not in timeline
    assert "市民" in timeline and ">citizen<" not in timeline


def test_acceptor_corrects_a_report_from_the_case_page(sqlite_city, clock):
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    driver.start(description="路边暴露垃圾")
    driver.do("verify", {"verdict": "confirmed"})
    number = driver.case().number
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    assert f'action="/cases/{number}/correct"' in client.get(f"/cases/{number}").get_data(as_text=True)
    refused = client.post(f"/cases/{number}/correct", data={"class_code": "C0102", "reason": ""},
                          follow_redirects=True).get_data(as_text=True)
    assert "案卷未更正" in refused and "此项为必填" in refused
    done = client.post(f"/cases/{number}/correct", data={"class_code": "C0102", "reason": "是雨水井盖"},
                       follow_redirects=True).get_data(as_text=True)
    timeline = done.split('<ol class="timeline">', 1)[1]
    assert "更正" in timeline and "暴露垃圾 →" in timeline and "是雨水井盖" in timeline
    assert driver.case().class_code == "C0102"
    dispatcher = make_app(sqlite_city, clock).test_client()
    login(dispatcher, "dispatcher1")
    assert dispatcher.post(f"/cases/{number}/correct", data={"urgency": "urgent", "reason": "x"}).status_code == 403

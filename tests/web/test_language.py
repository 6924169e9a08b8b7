"""Every page a user reaches speaks their language: a walk through the pages in Chinese (the
default) finds no English word outside names and codes, and no developer text (CLI hints,
role ids, exception phrases) on any page, including error pages and refused forms."""

from __future__ import annotations

import io

import pytest

from engine.model import EngineContext
from tests.factories import CaseDriver
from tests.web.pagetext import english_words, shown_text
from tests.web.webkit import login, make_app, task, tasks_of

DEVELOPER_TEXT = ("citycase ", "seed classes", "you are ", "this page is for", "Traceback", " / required",
                  "public:", "scheduler")


def _driven(db, clock, until: str, **handle: str) -> CaseDriver:
    """A citizen's case walked to ``until`` (handle's form given by ``handle``)."""
    driver = CaseDriver(db, EngineContext(clock))
    driver.start(description="路边暴露垃圾")
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": "sanitation@330191"})
    if until != "handle":
        driver.do("handle", handle)
    return driver


def _problems(html: str, where: str) -> list[str]:
    problems = [f"{where}: English text on a Chinese page: {part!r}" for part in english_words(html)]
    text = " ".join(shown_text(html))
    problems += [f"{where}: developer text {phrase!r}" for phrase in DEVELOPER_TEXT if phrase in text]
    return problems


def _check_page(html: str, where: str) -> None:
    problems = _problems(html, where)
    assert problems == [], "\n".join(problems)


@pytest.fixture
def cases(sqlite_city, clock):
    return {
        "return": _driven(sqlite_city, clock, "approve_return", outcome="return", result="不属于本部门职责"),
        "extend": _driven(sqlite_city, clock, "approve_extension", outcome="extend", result="需要采购配件",
                          extension_amount="3", extension_unit="workday"),
        "check": _driven(sqlite_city, clock, "check", outcome="done", result="已清理完毕"),
        "handle": _driven(sqlite_city, clock, "handle"),
    }


WALKERS = ("supervisor1", "acceptor1", "shiftleader1", "dispatcher1", "handler_sanitation_330191",
           "leader_sanitation_330191", "auditor1")


def test_every_staff_page_is_chinese(sqlite_city, clock, cases):
    app = make_app(sqlite_city, clock)
    problems: list[str] = []
    for username in WALKERS:
        client = app.test_client()
        login(client, username)
        pages = ["/", "/cases", "/cases?overdue=1"]
        if username != "auditor1":
            pages += ["/inbox?tab=mine", "/inbox?tab=group"]
        for driver in cases.values():
            pages.append(f"/cases/{driver.case().number}")
            for row in tasks_of(sqlite_city, driver.case_id):
                pages.append(f"/tasks/{row.id}")
        for url in pages:
            response = client.get(url, follow_redirects=True)
            if not (response.status_code == 200 or (response.status_code in (403, 404)
                                                    and url.startswith("/tasks/"))):
                problems.append(f"{username} {url}: HTTP {response.status_code}")
            problems += _problems(response.get_data(as_text=True), f"{username} {url}")
    assert problems == [], "\n".join(sorted(set(problems)))


def test_refused_forms_and_errors_are_chinese(sqlite_city, clock, cases):
    app = make_app(sqlite_city, clock)
    public = app.test_client()
    empty = public.post("/report/public", data={})
    assert empty.status_code == 400
    _check_page(empty.get_data(as_text=True), "empty public report")
    far = public.post("/report/public", data={"class_code": "E0102", "lat": "10", "lon": "10",
                                              "description": "长" * 2001})
    assert far.status_code == 400
    html = far.get_data(as_text=True)
    _check_page(html, "public report outside the city")
    assert html.count("不在本市范围内") == 1  # shown once, next to the location
    bad_photo = public.post("/report/public", data={"class_code": "E0102", "lat": "10", "lon": "10",
                                                    "photos__files": (io.BytesIO(b"not a photo"), "a.jpg")},
                            content_type="multipart/form-data")
    _check_page(bad_photo.get_data(as_text=True), "public report with a broken photo")
    upload = public.post("/attachments", data={"file": (io.BytesIO(b"not a photo"), "a.jpg")},
                         content_type="multipart/form-data")
    assert upload.status_code == 400 and not english_words(upload.get_json()["message"])
    _check_page(public.get("/follow/" + "x" * 32).get_data(as_text=True), "invalid follow link")
    _check_page(public.get("/no/such/page").get_data(as_text=True), "404")

    designer = app.test_client()
    login(designer, "designer1")
    refused = designer.get("/cases")
    assert refused.status_code == 403
    _check_page(refused.get_data(as_text=True), "designer on /cases")

    handler = app.test_client()
    login(handler, "handler_sanitation_330191")
    handle = task(sqlite_city, cases["handle"].case_id, "handle")
    response = handler.post(f"/tasks/{handle.id}", data={"outcome": "extend", "result": "", "extension_amount": ""})
    assert response.status_code == 400
    _check_page(response.get_data(as_text=True), "refused handle form")

    supervisor = app.test_client()
    login(supervisor, "supervisor1")
    response = supervisor.post("/report/mobile", data={"class_code": "", "lat": "", "lon": ""})
    assert response.status_code == 400
    _check_page(response.get_data(as_text=True), "refused mobile report")


def test_english_pages_have_no_chinese_developer_mix(sqlite_city, clock, cases):
    """In English, field messages are English only (not the engine's "中文 / English" pairs)."""
    client = make_app(sqlite_city, clock).test_client()
    login(client, "handler_sanitation_330191")
    client.post("/language", data={"lang": "en"})
    handle = task(sqlite_city, cases["handle"].case_id, "handle")
    html = client.post(f"/tasks/{handle.id}", data={"outcome": "extend", "result": ""}).get_data(as_text=True)
    assert "required" in html and "必填" not in html

"""In headless Chromium: an acceptor merges a duplicate from the new case's accept page, and a
citizen reopens a closed case from the follow-up page on a phone-sized screen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.audit import verify_all
from engine.model import EngineContext
from engine.models import Case, TaskRow
from tests.factories import CaseDriver
from tests.web.test_browser import ARGS, CHROMIUM, _require_browser, live_server  # noqa: F401
from tests.web.webkit import PASSWORD

pytestmark = pytest.mark.browser
DEPT = "sanitation@330191"
SHOTS = Path(os.environ.get("CITYCASE_SCREENSHOTS", "/tmp/citycase-screenshots"))


def _row(db, case_id: int) -> Case:
    with db.session() as s:
        return s.get(Case, case_id)


def test_acceptor_merges_and_citizen_reopens(live_server, sqlite_city, clock):  # noqa: F811
    sync_playwright = _require_browser()
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = EngineContext(clock)
    original, duplicate, fixed = CaseDriver(sqlite_city, ctx), CaseDriver(sqlite_city, ctx), CaseDriver(sqlite_city, ctx)
    original.start(source="supervisor", description="井边暴露垃圾")
    duplicate.start(source="supervisor", description="同一堆垃圾又报了一次")
    fixed.start()
    for spec, data in (("verify", {"verdict": "confirmed"}), ("accept", {"decision": "file"}),
                       ("file", {"decision": "file"}), ("dispatch", {"department": DEPT}),
                       ("handle", {"outcome": "done", "result": "已清理"}), ("check", {"verdict": "passed"}),
                       ("close", {"note": "结案"})):
        fixed.do(spec, data)
    o_number = _row(sqlite_city, original.case_id).number
    with sqlite_city.session() as s:
        accept = s.scalar(select(TaskRow.id).where(TaskRow.case_id == duplicate.case_id))
    token = _row(sqlite_city, fixed.case_id).public_token

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        errors: list[str] = []

        def watch(page):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                    and not msg.text.startswith("Failed to load resource") else None)

        # The acceptor opens the new case's accept step, sees the earlier report nearby and merges.
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        watch(page)
        page.goto(f"{live_server}/login")
        page.fill('input[name="username"]', "acceptor1")
        page.fill('input[name="password"]', PASSWORD)
        page.click('form.login-form button[type="submit"]')
        page.wait_for_load_state()
        page.goto(f"{live_server}/tasks/{accept}")
        item = page.locator(f'li.duplicate:has(a:text-is("{o_number}"))')
        assert item.count() == 1, page.content()[:3000]
        page.screenshot(path=str(SHOTS / "merge-accept-page.png"), full_page=True)
        item.locator('button[type="submit"]').click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/cases/{o_number}")
        assert "已合并" in page.inner_text(".flash")
        page.screenshot(path=str(SHOTS / "merge-done.png"), full_page=True)
        context.close()
        assert _row(sqlite_city, duplicate.case_id).status == "merged"

        # The citizen, on a phone, says the closed case is not solved.
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
        page = context.new_page()
        watch(page)
        page.goto(f"{live_server}/follow/{token}")
        assert "已办结" in page.inner_text(".public-status")
        page.fill('form.reopen-form textarea[name="reason"]', "垃圾又堆起来了")
        page.screenshot(path=str(SHOTS / "reopen-follow-page.png"), full_page=True)
        page.click('form.reopen-form button[type="submit"]')
        page.wait_for_load_state()
        assert "处理中" in page.inner_text(".public-status")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(SHOTS / "reopen-done.png"), full_page=True)
        context.close()
        browser.close()

    assert errors == []
    assert fixed.tasks() == ["dispatch"]
    with sqlite_city.session() as s:
        assert verify_all(s)[1] == []

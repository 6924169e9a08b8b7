"""The department leader's 部门任务 page in Chromium at a desktop and a phone size: no sideways
scroll, only Chinese, no axe-core violation, no console error; assigning through the form puts
the task in the handler's "My tasks"."""

from __future__ import annotations

import pytest

from engine.model import EngineContext
from tests.factories import CaseDriver, task_of
from tests.web.pagetext import english_words
from tests.web.test_accessibility import _violations
from tests.web.test_browser import ARGS, CHROMIUM, _require_browser, live_server  # noqa: F401 (fixture)
from tests.web.webkit import PASSWORD
from web.assets import axe_installed

pytestmark = pytest.mark.browser
DEPT = "sanitation@330191"


def _handle_task(db, clock) -> str:
    d = CaseDriver(db, EngineContext(clock))
    d.start()
    d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": DEPT})
    with db.session() as s:
        return task_of(s, d.case_id, "handle").id


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form.login-form button[type="submit"]')
    page.wait_for_load_state()


def test_assign_page_at_desktop_and_phone_size(live_server, sqlite_city, clock):  # noqa: F811
    sync_playwright = _require_browser()
    task_id = _handle_task(sqlite_city, clock)
    problems: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for width in (1280, 360):
            context = browser.new_context(viewport={"width": width, "height": 800})
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            _sign_in(page, live_server, "leader_sanitation_330191")
            page.goto(f"{live_server}/inbox/department")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=f"/tmp/cw-assign-{width}.png", full_page=True)
            if page.evaluate("document.documentElement.scrollWidth") > width:
                problems.append(f"{width}: sideways scroll")
            if english_words(page.content()):
                problems.append(f"{width}: English {english_words(page.content())}")
            if axe_installed():
                problems += _violations(page, f"assign-{width}")
            context.close()
        context = browser.new_context(viewport={"width": 360, "height": 800})
        page = context.new_page()
        _sign_in(page, live_server, "leader_sanitation_330191")
        page.goto(f"{live_server}/inbox/department")
        row = page.locator(f'tr[data-task="{task_id}"]')
        row.locator('select[name="assignee"]').select_option("handler2_sanitation_330191")
        row.locator("button.assign-button").click()
        page.wait_for_load_state()
        assert "已派给" in page.inner_text("body")
        assert "处置员2" in page.inner_text(f'tr[data-task="{task_id}"] td.holder')
        context.close()
        context = browser.new_context(viewport={"width": 360, "height": 800})
        page = context.new_page()
        _sign_in(page, live_server, "handler2_sanitation_330191")
        page.goto(f"{live_server}/inbox?tab=mine")
        assert page.locator(f'tr[data-task="{task_id}"]').count() == 1
        context.close()
        browser.close()
    assert problems == [], "\n".join(problems)
    assert errors == []

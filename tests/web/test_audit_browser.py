"""The replay page in headless Chromium: the diagram draws under the CSP and the slider moves its markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.audit.walks import STEPS, walk_return_and_rework
from tests.web.test_browser import ARGS, CHROMIUM, _require_browser, live_server  # noqa: F401
from tests.web.webkit import PASSWORD

pytestmark = pytest.mark.browser
SCREENSHOT = Path("/tmp/replay.png")


def test_auditor_steps_through_a_closed_case_on_the_diagram(live_server, sqlite_city, clock):  # noqa: F811
    sync_playwright = _require_browser()
    from web.assets import bpmn_js_installed

    if not bpmn_js_installed():
        pytest.skip("bpmn-js is not installed (python -m web.assets)")
    walked = walk_return_and_rework(sqlite_city, clock)
    from engine.models import Case

    with sqlite_city.session() as s:
        number = s.get(Case, walked.case_id).number

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Console errors include Content-Security-Policy violations (inline scripts or styles).
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                and not msg.text.startswith("Failed to load resource") else None)
        # ...and every asset must load (the browser asks for /favicon.ico on its own; there is none)
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
                and not r.url.endswith("/favicon.ico") else None)
        page.goto(f"{live_server}/login")
        page.fill('input[name="username"]', "auditor1")
        page.fill('input[name="password"]', PASSWORD)
        page.click('form.login-form button[type="submit"]')
        page.wait_for_load_state()

        page.goto(f"{live_server}/audit")
        page.click(f'table.recent a:text-is("{number}")')
        page.wait_for_selector("#diagram[data-ready]")
        # the last step: closed, and only the callback (回访) of a citizen's case open, on the diagram
        assert page.locator(".djs-element.replay-completed").count() > 5
        assert page.locator('.djs-element.replay-completed[data-element-id="close"]').count() == 1
        active = page.locator(".djs-element.replay-active")
        assert active.count() == 1 and active.get_attribute("data-element-id") == "Followup_callback"

        page.fill("#step-slider", str(STEPS["return"]))  # the department returned the case
        active = page.locator(".djs-element.replay-active")
        assert active.count() == 1 and active.get_attribute("data-element-id") == "approve_return"
        assert page.locator('.djs-element.replay-completed[data-element-id="handle"]').count() == 1
        assert page.is_visible(f'.step-panel[data-seq="{STEPS["return"]}"]')
        assert not page.is_visible(f'.step-panel[data-seq="{STEPS["close"]}"]')
        assert page.url.endswith(f"step={STEPS['return']}")

        page.click(".step-prev")  # back to the first dispatch: handling is open, its timers wait
        assert page.locator(".djs-element.replay-active").get_attribute("data-element-id") == "handle"
        waiting = {page.locator(".djs-element.replay-waiting").nth(i).get_attribute("data-element-id")
                   for i in range(page.locator(".djs-element.replay-waiting").count())}
        assert {"handle_warning", "handle_overdue", "supervision_received"} <= waiting
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        page.click(".verify-form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".flash.success").count() == 1 and f"step={STEPS['dispatch']}" in page.url
        browser.close()
    assert errors == [], errors

"""Accessibility: axe-core (from the npm registry, see web/assets.py) finds no WCAG 2.1 A/AA
violation on the pages a supervisor, a citizen and the center's staff walk, in Chromium."""

from __future__ import annotations

import re

import pytest

from engine.model import EngineContext
from tests.factories import CaseDriver
from tests.web.test_browser import ARGS, CHROMIUM, _require_browser, live_server  # noqa: F401 (fixture)
from tests.web.test_browser_phone import PHONE, _sign_in
from web.assets import axe_installed

pytestmark = pytest.mark.browser
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _violations(page, name: str) -> list[str]:
    page.wait_for_load_state("networkidle")
    # Same origin: the pages' Content-Security-Policy allows it (an inline copy would be refused).
    page.add_script_tag(url=page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2]
                        + "/static/vendor/axe-core/axe.min.js")
    found = page.evaluate("""async (tags) => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
        return result.violations.map(v => v.id + ": " + v.help + " — " +
            v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
    }""", WCAG)
    return [f"{name}: {v}" for v in found]


def test_pages_pass_axe_core_at_wcag_21_aa(live_server, sqlite_city, clock):  # noqa: F811
    sync_playwright = _require_browser()
    if not axe_installed():
        pytest.skip("axe-core is not installed (python -m web.assets)")
    driver = CaseDriver(sqlite_city, EngineContext(clock))
    driver.start(description="路边暴露垃圾")
    for spec, data in (("verify", {"verdict": "confirmed"}), ("accept", {"decision": "file"}),
                       ("file", {"decision": "file"}), ("dispatch", {"department": "sanitation@330191"}),
                       ("handle", {"outcome": "done", "result": "已清理"})):
        driver.do(spec, data)
    number = driver.case().number
    base = live_server
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for viewport in (PHONE, {"width": 1280, "height": 900}):
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            for name, url in (("login", "/login"), ("public-report", "/report/public")):
                page.goto(base + url)
                problems += _violations(page, f"{name}@{viewport['width']}")
            _sign_in(page, base, "supervisor1")
            for name, url in (("inbox", "/inbox?tab=group"), ("report", "/report/mobile"),
                              ("case", f"/cases/{number}"), ("cases", "/cases"),
                              ("sheet", f"/cases/{number}/sheet")):
                page.goto(base + url)
                problems += _violations(page, f"{name}@{viewport['width']}")
            page.goto(base + "/inbox?tab=group")
            page.click(f'tr.task:has(a:text-is("{number}")) a.open-task')
            page.wait_for_url(re.compile(r"/tasks/"))
            problems += _violations(page, f"check-task@{viewport['width']}")
            page.click("form.task-form button[type=submit]")  # refused: the error state too
            page.wait_for_selector(".error-text")
            problems += _violations(page, f"check-task-refused@{viewport['width']}")
            context.close()
        browser.close()
    assert problems == [], "\n".join(sorted(set(problems)))

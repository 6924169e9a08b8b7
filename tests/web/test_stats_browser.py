"""/stats and /command in headless Chromium: the ranking table sorts, a number drills down to as
many cases, the charts draw, and the command screen changes without a reload when a case is
reported. Screenshots go to /tmp/stats.png and /tmp/command.png for a human to look at."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.clock import ManualClock
from engine.demo.simulate import Simulator
from engine.model import EngineContext
from tests.web.test_browser import ARGS, CHROMIUM, _require_browser, live_server  # noqa: F401
from tests.web.webkit import PASSWORD, supervisor_case

pytestmark = pytest.mark.browser


@pytest.fixture
def busy_city(sqlite_city):
    clock = ManualClock(datetime(2026, 11, 15, 16, 0, tzinfo=UTC))  # 2026-11-16 00:00 local
    Simulator(sqlite_city.factory, EngineContext(clock), seed=11).run(days=8, cases_per_day=10)
    return sqlite_city


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def test_stats_and_command_in_the_browser(busy_city, live_server, clock):  # noqa: F811
    sync_playwright = _require_browser()
    base = live_server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(page, base, "leader1")
        page.goto(f"{base}/stats?kind=department&month=2026-11")
        rows = page.locator("#ranking tbody tr")
        assert rows.count() > 3
        page.wait_for_selector("#stats-chart canvas")
        # Sort by the dispatched column (third): descending first.
        page.locator("#ranking thead th").nth(2).click()
        values = [int(v) for v in page.locator("#ranking tbody tr td:nth-child(3)").all_inner_texts()]
        assert values == sorted(values, reverse=True)
        page.screenshot(path="/tmp/stats.png", full_page=True)
        link = page.locator("#ranking tbody tr").first.locator("a[data-metric=dispatched]")
        number = int(link.inner_text())
        link.click()
        page.wait_for_selector("table.drill")
        assert page.locator("table.drill tbody tr.case").count() == number
        assert int(page.locator(".drill-total").inner_text()) == number

        page.goto(f"{base}/command")
        page.wait_for_selector("body[data-updated]")
        before = int(page.locator('[data-count="reported"]').inner_text())
        case = supervisor_case(busy_city, clock)
        from playwright.sync_api import expect

        # The next poll (every few seconds) shows it; the page is never reloaded.
        expect(page.locator('[data-count="reported"]')).to_have_text(str(before + 1), timeout=15000)
        assert case.number in page.locator("#latest").inner_text()
        page.screenshot(path="/tmp/command.png")
        browser.close()
    assert errors == []

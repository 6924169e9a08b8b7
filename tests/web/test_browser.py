"""End to end in headless Chromium: one case from the supervisor's phone report to closing.

Uses Debian's /usr/bin/chromium (never ``playwright install``). Skipped when it is missing,
unless CITYCASE_REQUIRE_BROWSER is set, in which case a missing browser fails the test.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import Case
from tests.web.webkit import PASSWORD, cell_in, jpeg_bytes, make_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def _require_browser():
    required = bool(os.environ.get("CITYCASE_REQUIRE_BROWSER"))
    if not CHROMIUM.exists():
        if required:
            pytest.fail("CITYCASE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing (apt-get install chromium)")
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium); "
                    "set CITYCASE_REQUIRE_BROWSER=1 to make this a failure")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("CITYCASE_REQUIRE_BROWSER is set but the playwright package is missing")
        pytest.skip("the playwright package is not installed (pip install playwright)")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(sqlite_city, clock):
    from werkzeug.serving import make_server

    app = make_app(sqlite_city, clock, WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_walk_one_case_through_the_pages(live_server, sqlite_city, tmp_path):
    sync_playwright = _require_browser()
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_bytes(size=(320, 240), gps=True))
    lon, lat = cell_in(sqlite_city, "330191")
    base = live_server

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        errors: list[str] = []

        def session_as(username: str):
            context = browser.new_context()
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # Console errors include Content-Security-Policy violations (e.g. an inline script).
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                    and not msg.text.startswith("Failed to load resource") else None)
            page.goto(f"{base}/login")
            page.fill('input[name="username"]', username)
            page.fill('input[name="password"]', PASSWORD)
            page.click('form.login-form button[type="submit"]')
            page.wait_for_load_state()
            assert "/login" not in page.url, f"{username} could not sign in"
            return context, page

        def upload_photo(page):
            page.set_input_files(".filepicker input.upload", str(photo))
            page.wait_for_selector(".filepicker .thumbs img")  # appended once the token is in
            assert page.input_value(".filepicker input.tokens")

        def open_task(page, number: str):
            page.goto(f"{base}/inbox?tab=group")
            page.click(f'tr.task:has(a:text-is("{number}")) a.open-task')
            page.wait_for_load_state()
            assert "/tasks/" in page.url

        def submit(page):
            page.click('form.task-form button[type="submit"]')
            page.wait_for_load_state()
            assert page.url.endswith("/inbox"), page.content()[:3000]

        # 1. The supervisor reports on the phone page, with a photo.
        context, page = session_as("supervisor1")
        page.goto(f"{base}/report/mobile")
        page.select_option("select.major-picker", "E01")
        page.select_option('select[name="class_code"]', "E0102")
        page.fill("#lat", f"{lat:.7f}")
        page.fill("#lon", f"{lon:.7f}")
        page.fill('textarea[name="description"]', "路边有暴露垃圾（浏览器测试）")
        upload_photo(page)
        page.click('form.report-form button[type="submit"]')
        page.wait_for_url(re.compile(r"/cases/\d+$"))  # the page sends the report itself (see report.js)
        match = re.search(r"/cases/(\d+)$", page.url)
        assert match, page.content()[:3000]
        number = match.group(1)
        assert page.locator("img.thumb").count() >= 1
        context.close()

        # 2. The acceptor accepts.
        context, page = session_as("acceptor1")
        open_task(page, number)
        page.check('input[name="decision"][value="file"]')
        submit(page)
        context.close()

        # 3. The shift leader files (the void reason appears only for "void").
        context, page = session_as("shiftleader1")
        open_task(page, number)
        assert not page.is_visible('textarea[name="void_reason"]')
        page.check('input[name="decision"][value="void"]')
        assert page.is_visible('textarea[name="void_reason"]')
        page.check('input[name="decision"][value="file"]')
        assert not page.is_visible('textarea[name="void_reason"]')
        submit(page)
        context.close()

        # 4. The dispatcher dispatches to the suggested department.
        context, page = session_as("dispatcher1")
        open_task(page, number)
        department = page.input_value('select[name="department"]')
        assert department
        submit(page)
        context.close()

        # 5. The department's handler handles, with an after-photo.
        context, page = session_as("handler_" + department.replace("@", "_"))
        open_task(page, number)
        page.check('input[name="outcome"][value="done"]')
        page.fill('textarea[name="result"]', "已清理完毕")
        upload_photo(page)
        submit(page)
        context.close()

        # 6. The supervisor checks on site.
        context, page = session_as("supervisor1")
        open_task(page, number)
        page.check('input[name="verdict"][value="passed"]')
        submit(page)
        context.close()

        # 7. The shift leader closes.
        context, page = session_as("shiftleader1")
        open_task(page, number)
        submit(page)
        page.goto(f"{base}/cases/{number}")
        assert "已结案" in page.inner_text("h1")
        assert page.locator(".photos img.thumb").count() == 2
        context.close()
        browser.close()

    with sqlite_city.session() as s:
        assert s.scalar(select(Case.status).where(Case.number == number)) == "closed"
    assert errors == []

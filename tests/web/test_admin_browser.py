"""In Chromium: an admin creates a department and a user on the admin pages, and that user works a case.

Also: the admin pages fit a phone (no sideways scrolling) and run without script or CSP errors.
Screenshots go to /tmp/admin-*.png.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine.admin.history import entries
from engine.model import EngineContext
from engine.models import Event
from tests.engine.admin.gridfiles import COMMUNITY, LAT0, LON0, STEP, district_file, feature, rect
from tests.factories import CaseDriver
from tests.web.test_browser import ARGS, CHROMIUM, _free_port, _require_browser
from tests.web.webkit import PASSWORD, make_app

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}
NEW_PASSWORD = "Lu0YangRoads26"


@pytest.fixture
def admin_server(city, clock):
    from werkzeug.serving import make_server

    app = make_app(city, clock, WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["citycase"].engine.dispose()


def _watch(page, errors: list[str]) -> None:
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
            and not msg.text.startswith("Failed to load resource") else None)


def _sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.click('form.login-form button[type="submit"]')
    page.wait_for_load_state()


def test_admin_creates_a_department_and_a_user_who_works_a_case(admin_server, city, clock):
    sync_playwright = _require_browser()
    base = admin_server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _watch(page, errors)
        _sign_in(page, base, "admin1", PASSWORD)
        assert page.url.endswith("/admin"), page.url  # the admin's own start page
        page.screenshot(path="/tmp/admin-home.png", full_page=True)

        page.click('nav.admin-nav a[href$="/admin/departments"]')
        page.fill('form[action$="/admin/departments"] input[name="code"]', "roads@330191")
        page.fill('form[action$="/admin/departments"] input[name="name"]', "西湖区道路养护所")
        page.fill('form[action$="/admin/departments"] input[name="handler_type"]', "roads")
        page.select_option('form[action$="/admin/departments"] select[name="district_code"]', "330191")
        page.click('form[action$="/admin/departments"] button[type="submit"]')
        page.wait_for_load_state()
        assert "roads@330191" in page.inner_text("#department-list")
        page.screenshot(path="/tmp/admin-departments.png", full_page=True)

        page.click('nav.admin-nav a[href$="/admin/users"]')
        form = 'form[action$="/admin/users"]'
        page.fill(f'{form} input[name="username"]', "luyang")
        page.fill(f'{form} input[name="display_name"]', "陆洋")
        page.fill(f'{form} input[name="password"]', NEW_PASSWORD)
        page.select_option(f'{form} select[name="role"]', "handler")
        page.select_option(f'{form} select[name="department_code"]', "roads@330191")
        page.select_option(f'{form} select[name="district_code"]', "330191")
        page.click(f'{form} button[type="submit"]')
        page.wait_for_load_state()
        assert page.url.endswith("/admin/users/luyang") and "陆洋" in page.content()
        page.screenshot(path="/tmp/admin-user.png", full_page=True)
        page.close()

        # A case reaches the new department: the dispatcher picks it (it is offered like any other).
        driver = CaseDriver(city, EngineContext(clock))
        driver.start(description="人行道破损（浏览器测试）")
        driver.do("verify", {"verdict": "confirmed"})
        driver.do("accept", {"decision": "file"})
        driver.do("file", {"decision": "file"})
        driver.do("dispatch", {"department": "roads@330191"})
        number = driver.case().number

        worker = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        _watch(worker, errors)
        _sign_in(worker, base, "luyang", NEW_PASSWORD)
        assert worker.url.endswith("/inbox"), worker.url
        worker.goto(f"{base}/inbox?tab=group")
        worker.click(f'tr.task:has(a:text-is("{number}")) a.open-task')
        worker.wait_for_load_state()
        worker.check('input[name="outcome"][value="done"]')
        worker.fill('textarea[name="result"]', "已修复破损路面")
        worker.screenshot(path="/tmp/admin-newuser-task.png", full_page=True)
        worker.click('form.task-form button[type="submit"]')
        worker.wait_for_load_state()
        assert worker.url.endswith("/inbox"), worker.content()[:2000]
        browser.close()

    assert driver.tasks() == ["check"]
    with city.session() as s:
        actors = list(s.scalars(select(Event.actor).where(Event.case_id == driver.case_id)))
        kinds = [e.kind for e in reversed(entries(s))]
    assert "luyang" in actors
    assert kinds == ["department_created", "user_created"]
    assert errors == []


def test_a_grid_file_with_an_overlap_is_refused_in_the_browser(admin_server, city, tmp_path):
    sync_playwright = _require_browser()
    overlap = feature(f"{COMMUNITY}009", rect(LON0 + STEP / 2, LAT0 + STEP / 2, LON0 + STEP * 1.5, LAT0 + STEP * 0.9))
    path = tmp_path / "grid.geojson"
    path.write_bytes(district_file([overlap]))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _sign_in(page, admin_server, "admin1", PASSWORD)
        page.goto(f"{admin_server}/admin/grid")
        page.set_input_files('input[name="file"]', str(path))
        page.click('form[action$="/admin/grid"] button[type="submit"]')
        page.wait_for_load_state()
        problems = page.inner_text("#problems")
        page.screenshot(path="/tmp/admin-grid-refused.png", full_page=True)
        browser.close()
    assert all(f"{COMMUNITY}00{i}" in problems for i in (1, 2, 9)) and "重叠" in problems


def test_admin_pages_fit_a_phone(admin_server, city):
    sync_playwright = _require_browser()
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        _watch(page, errors)
        _sign_in(page, admin_server, "admin1", PASSWORD)
        wide = []
        for name in ("users", "departments", "grid", "classes", "components", "calendar", "history"):
            page.goto(f"{admin_server}/admin/{name}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=f"/tmp/admin-phone-{name}.png", full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide.append((name, width))
        browser.close()
    assert wide == [] and errors == []

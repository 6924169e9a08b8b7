"""In headless Chromium, on the system clock: a supervisor starts duty on a 360 px phone, the page
records positions (kept while offline, sent when the network is back); the shift leader's field map
draws the day's tracks and the devices with the attendance table. Screenshots: /tmp/cw-patrol-*.png."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from engine.clock import SystemClock
from engine.demo.field import flood, patrol
from engine.patrol.models import Duty, Position
from tests.web.pagetext import english_words
from tests.web.test_browser import ARGS, CHROMIUM, _free_port, _require_browser
from tests.web.test_browser_phone import PHONE, _phone, _sign_in
from tests.web.webkit import cell_in, make_app

pytestmark = pytest.mark.browser
TZ = "Asia/Shanghai"


@pytest.fixture
def system_server(sqlite_city):
    from werkzeug.serving import make_server

    app = make_app(sqlite_city, SystemClock(), WTF_CSRF_ENABLED=True, PATROL_INTERVAL_SECONDS=5)
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["citycase"].engine.dispose()


def _wait_queue(page, ok, seconds: float = 25.0) -> None:
    """Poll the page's queue of unsent positions (the page's CSP refuses wait_for_function's eval)."""
    for _ in range(int(seconds * 4)):
        n = page.evaluate("JSON.parse(localStorage.getItem('citycase.patrol.queue.supervisor1') || '[]').length")
        if ok(n):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the queue of unsent positions stayed at {n}")


def _positions(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Position))


def test_a_supervisor_starts_duty_on_a_phone_and_positions_kept_offline_are_sent_later(system_server, sqlite_city):
    sync_playwright = _require_browser()
    lon, lat = cell_in(sqlite_city, "330191")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context, page = _phone(browser, errors)
        context.grant_permissions(["geolocation"])
        context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 8})
        _sign_in(page, system_server, "supervisor1")
        page.goto(f"{system_server}/patrol/duty")
        page.screenshot(path="/tmp/cw-patrol-off-duty.png", full_page=True)
        page.click('button[value="start"]')
        page.wait_for_selector('button[value="end"]')
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert english_words(page.content()) == []
        box = page.locator('button[value="end"]').bounding_box()
        assert box and box["height"] >= 44
        context.set_offline(True)
        _wait_queue(page, lambda n: n >= 2)
        assert "网络不通" in page.inner_text("#patrol-status") or _positions(sqlite_city) == 0
        page.screenshot(path="/tmp/cw-patrol-on-duty-offline.png", full_page=True)
        assert _positions(sqlite_city) == 0
        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        _wait_queue(page, lambda n: n == 0)
        page.screenshot(path="/tmp/cw-patrol-on-duty.png", full_page=True)
        assert _positions(sqlite_city) >= 2
        page.click('button[value="end"]')
        page.wait_for_selector('button[value="start"]')
        context.close()
        browser.close()
    with sqlite_city.session() as s:
        duty = s.scalars(select(Duty)).one()
        cells = set(s.scalars(select(Position.grid_code)))
    assert duty.ended_at is not None and len(cells) == 1 and None not in cells
    assert errors == []


def test_the_shift_leader_sees_tracks_devices_and_attendance_on_the_map(system_server, sqlite_city):
    sync_playwright = _require_browser()
    now = SystemClock().now()
    walked = patrol(sqlite_city.factory, now, TZ)
    flood(sqlite_city.factory, now, TZ)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                and not msg.text.startswith("Failed to load resource") else None)
        _sign_in(page, system_server, "shiftleader1")
        page.goto(f"{system_server}/patrol/map")
        page.wait_for_selector("#fieldmap .leaflet-overlay-pane path")
        page.wait_for_load_state("networkidle")
        page.screenshot(path="/tmp/cw-patrol-map.png", full_page=True)
        tracks = page.locator("#fieldmap path.leaflet-interactive[stroke-width='4']").count()
        devices = {s: page.locator(f"#fieldmap path.device-{s}").count() for s in ("normal", "alarm", "silent")}
        table = page.inner_text("#attendance")
        labels = page.inner_text("#fieldmap .leaflet-control-layers")
        context.close()
        browser.close()
    assert tracks == walked.supervisors
    assert devices["silent"] == 1 and devices["normal"] >= 2  # the manhole cover never reported
    assert "迟到" in table and "早退" in table and "缺勤" in table
    assert "监督员轨迹" in labels and "感知设备" in labels
    assert errors == []

"""The designer's editors in headless Chromium: the BPMN modeler opens under our CSP, a DMN row and
a time limit are changed in dmn-js, a refused save selects the offending row, a second designer
approves, and new reports follow the new manual."""

from __future__ import annotations

import pytest

from tests.web.test_browser import ARGS, CHROMIUM, _require_browser, live_server  # noqa: F401  (fixture)
from tests.web.webkit import PASSWORD

pytestmark = pytest.mark.browser


def _session(browser, base, username, errors):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
            and not msg.text.startswith("Failed to load resource") else None)  # e.g. favicon
    page.goto(f"{base}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form.login-form button[type="submit"]')
    page.wait_for_load_state()
    return context, page


def _open(page, url):
    page.goto(url)
    page.wait_for_selector('#editor[data-ready="true"]', timeout=30000)


def test_modeler_opens_and_a_dmn_change_is_proposed(live_server):  # noqa: F811
    sync_playwright = _require_browser()
    base = live_server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context, page = _session(browser, base, "designer1", errors)
        _open(page, f"{base}/designer/versions/1/edit/case_lifecycle.bpmn?element=handle")
        assert page.locator('.djs-element[data-element-id="accept"]').count() == 1
        assert page.locator('.djs-element.selected[data-element-id="handle"]').count() == 1
        page.screenshot(path="/tmp/designer.png")
        _open(page, f"{base}/designer/versions/1/edit/forms/check.form?element=Field_verdict")
        assert page.locator(".fjs-editor-container [data-id='Field_verdict']").count() == 1
        page.screenshot(path="/tmp/designer-form.png")
        assert errors == []
        context.close()
        browser.close()


def _edit_cell(page, element_id: str, text: str) -> None:
    cell = page.locator(f'td[data-element-id="{element_id}"] [contenteditable="true"]')
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.locator(".tjs-table-head, .decision-table-name").first.click()  # leave the cell: the edit is committed


def _save(page) -> str:
    page.click("#save-proposal")
    page.wait_for_selector("#editor-status.ok, #editor-status.error", timeout=30000)
    return page.inner_text("#editor-status")


def test_designers_change_a_department_and_a_time_limit(live_server, sqlite_city, clock):  # noqa: F811
    from engine.designer import lifecycle
    from tests.web.webkit import supervisor_case

    sync_playwright = _require_browser()
    base = live_server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context, page = _session(browser, base, "designer1", errors)
        _open(page, f"{base}/designer/versions/1/edit/dispatch.dmn")
        _edit_cell(page, "Out_dispatch_34_0", '"sanitation@330192"')
        assert "#2" in _save(page)
        _open(page, f"{base}/designer/versions/2/edit/time_limits.dmn")
        _edit_cell(page, "Out_time_limits_33_0", "0")
        assert _save(page)  # refused: a limit must be positive …
        assert page.locator("#problems li").count() == 1
        assert page.locator('tr.problem-mark td[data-element-id="Out_time_limits_33_0"]').count() == 1  # … row marked
        page.screenshot(path="/tmp/designer-dmn.png")
        _edit_cell(page, "Out_time_limits_33_0", "1")
        assert "#3" in _save(page)
        context.close()

        context, page = _session(browser, base, "designer2", errors)
        page.goto(f"{base}/designer/")
        page.click('tr:has(a:text-is("#3")) form[action$="/approve"] button')
        page.wait_for_load_state()
        assert page.locator('tr:has(a:text-is("#3")) .badge-active').count() == 1
        context.close()
        browser.close()
    assert [e for e in errors if "Inferno" not in e] == []  # dmn-js logs a harmless Inferno build notice
    with sqlite_city.session() as s:
        assert lifecycle.active_id(s) == 3
    case = supervisor_case(sqlite_city, clock)
    with sqlite_city.session() as s:
        from engine.models import Case

        assert s.get(Case, case.case_id).definition_id == 3


def test_properties_panel_sets_a_form_and_the_bpmn_round_trips(live_server, sqlite_city):  # noqa: F811
    from engine.designer import lifecycle
    from engine.designer.diff import diff_files

    sync_playwright = _require_browser()
    base = live_server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context, page = _session(browser, base, "designer1", errors)
        _open(page, f"{base}/designer/versions/1/edit/case_lifecycle.bpmn?element=check")
        select = page.locator('#properties [data-entry-id="citycase-form"] select')
        assert select.input_value() == "forms/check.form"
        select.select_option("forms/verify.form")
        page.screenshot(path="/tmp/designer-properties.png")
        assert "#2" in _save(page)
        context.close()
        browser.close()
    assert errors == []
    with sqlite_city.session() as s:
        changes = diff_files(lifecycle.version_files(s, 1), lifecycle.version_files(s, 2)).changes
    # Only the form reference changed: everything else (SpiffWorkflow extensions included) survived the modeler.
    assert [(c.file, c.element_id, c.change) for c in changes] == [("case_lifecycle.bpmn", "check", "changed")]


def test_migration_shows_its_progress_and_moves_the_open_cases(live_server, sqlite_city, clock):  # noqa: F811
    from engine.designer import lifecycle
    from engine.models import Case
    from tests.engine.designer.helpers import DESIGNER1, DESIGNER2, bpmn_files, with_department
    from tests.web.webkit import supervisor_case

    cases = [supervisor_case(sqlite_city, clock).case_id for _ in range(3)]
    with sqlite_city.session() as s:
        new_id = lifecycle.propose(s, with_department(bpmn_files(), "E0102", "sanitation@330192"), DESIGNER1,
                                   clock.now()).id
    with sqlite_city.session() as s:
        lifecycle.approve(s, new_id, DESIGNER2, clock.now())
    sync_playwright = _require_browser()
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context, page = _session(browser, live_server, "designer1", errors)
        page.goto(f"{live_server}/designer/versions/{new_id}/migrate")
        page.click("form.migrate-form button[type=submit]")
        page.wait_for_selector("form.migrate-form.finished", timeout=60000)
        assert page.locator("form.migrate-form progress").get_attribute("value") == "3"
        assert "迁移已完成：迁移 3 个，失败 0 个。" in page.inner_text("form.migrate-form .status")
        page.screenshot(path="/tmp/designer-migrated.png")
        page.click("form.migrate-form .status a")  # what is left: nothing
        page.wait_for_load_state()
        assert "没有在其他版本上运行的在办案卷" in page.inner_text("main")
        context.close()
        browser.close()
    assert errors == []
    with sqlite_city.session() as s:
        assert {s.get(Case, c).definition_id for c in cases} == {new_id}

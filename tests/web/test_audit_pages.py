"""The audit pages: replay of a case on the diagram, verify, search, and the auditors' access log."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select, text
from werkzeug.security import generate_password_hash

from engine.audit import access_log
from engine.models import AccessLogEntry, Case, User
from tests.engine.audit.tamper import tamper
from tests.engine.audit.walks import STEPS, walk_return_and_rework
from tests.web.webkit import PASSWORD, login

_DATA = re.compile(r'<script type="application/json" id="replay-data">(.*?)</script>', re.S)


@pytest.fixture
def walked(city, clock):
    return walk_return_and_rework(city, clock)


def _number(db, case_id: int) -> str:
    with db.session() as s:
        return s.get(Case, case_id).number


def _payload(body: str) -> dict:
    match = _DATA.search(body)
    assert match, "no replay data in the page"
    return json.loads(match.group(1))


def _panel(body: str, seq: int) -> str:
    match = re.search(rf'<section class="step-panel"[^>]*data-seq="{seq}"[^>]*>(.*?)</section>', body, re.S)
    assert match, f"no panel for step {seq}"
    return match.group(0)


def _log_rows(db, username: str | None = None) -> list[AccessLogEntry]:
    with db.session() as s:
        return list(reversed(access_log.entries(s, username=username, limit=1000)))


@pytest.mark.parametrize("username, status", [
    ("auditor1", 200), ("leader1", 200), ("leader_municipal", 200),
    ("leader_sanitation_330191", 404),  # another department's case: as if it did not exist
    ("handler_municipal", 403), ("dispatcher1", 403), ("admin1", 403), ("designer1", 403), ("supervisor1", 403),
])
def test_who_may_open_a_replay(app, city, walked, username, status):
    number = _number(city, walked.case_id)
    client = app.test_client()
    login(client, username)
    assert client.get(f"/audit/cases/{number}").status_code == status
    assert client.post(f"/audit/cases/{number}/verify").status_code == (302 if status == 200 else status)


def test_missing_case_and_anonymous_visitor(app, city, walked):
    client = app.test_client()
    number = _number(city, walked.case_id)
    response = client.get(f"/audit/cases/{number}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, "auditor1")
    assert client.get("/audit/cases/209901010001").status_code == 404
    login(client, "leader1")
    assert client.get("/audit").status_code == 403  # the index is the auditors'


def test_replay_marks_what_happened_at_each_step(app, city, walked):
    number = _number(city, walked.case_id)
    client = app.test_client()
    login(client, "auditor1")
    body = client.get(f"/audit/cases/{number}").get_data(as_text=True)
    payload = _payload(body)
    assert 'id="case_lifecycle"' in payload["xml"]
    steps = {s["seq"]: s for s in payload["steps"]}
    assert len(steps) == len(STEPS) and payload["current"] == len(STEPS) - 1  # opens at the last step
    returned = steps[STEPS["return"]]
    assert returned["active"] == ["approve_return"] and "handle" in returned["completed"]
    assert steps[STEPS["approve_return"]]["active"] == ["dispatch"]
    assert steps[STEPS["check_failed"]]["active"] == ["handle"] and "check" in steps[STEPS["check_failed"]]["completed"]
    assert {"handle_warning", "handle_overdue", "supervision_received"} <= set(steps[STEPS["rework"] - 1]["waiting"])
    # a citizen's case is closed, then called back (回访): the callback is the one open step
    assert steps[STEPS["close"]]["active"] == ["Followup_callback"] and "close" in steps[STEPS["close"]]["completed"]
    # the panel in users' words: who (display name), the decision, the diff, the hash
    panel = html.unescape(_panel(body, STEPS["redispatch"]))
    assert "派遣员" in panel  # the dispatcher's display name
    assert 'class="change-changed"' in panel and "sanitation@330191" in panel and "municipal" in panel
    with city.session() as s:
        from engine.models import Event

        digest = s.scalar(select(Event.hash).where(Event.case_id == walked.case_id, Event.seq == STEPS["redispatch"]))
    assert digest in panel
    returned_panel = _panel(body, STEPS["return"])
    assert "不属于本单位" in returned_panel and "回退审核" in returned_panel  # decision and the next task


def test_deadlines_and_lights_as_they_stood(app, city, walked):
    number = _number(city, walked.case_id)
    client = app.test_client()
    login(client, "auditor1")
    body = client.get(f"/audit/cases/{number}").get_data(as_text=True)
    dispatched = _panel(body, STEPS["redispatch"])
    claimed = _panel(body, STEPS["claim_late"])
    assert "light-green" in dispatched and "light-yellow" not in dispatched
    assert "light-yellow" in claimed  # claimed after 80 % of the handling time
    closed = _panel(body, STEPS["close"])  # after closing only the callback (回访) is open, just begun
    assert closed.count("light-green") == 1 and "light-yellow" not in closed and "light-red" not in closed


def test_deep_link_opens_the_given_step(app, city, walked):
    number = _number(city, walked.case_id)
    client = app.test_client()
    login(client, "auditor1")
    body = client.get(f"/audit/cases/{number}?step=6").get_data(as_text=True)
    assert _payload(body)["current"] == 5
    assert 'value="6"' in re.search(r'<input type="range"[^>]*>', body).group(0)
    assert " hidden" not in _panel(body, 6).split(">")[0]
    assert " hidden" in _panel(body, 7).split(">")[0] and " hidden" in _panel(body, 5).split(">")[0]
    assert 'data-index="5"' in re.search(r'<li class="current"[^>]*>', body).group(0)
    # nonsense falls back to the last step
    assert _payload(client.get(f"/audit/cases/{number}?step=abc").get_data(as_text=True))["current"] == len(STEPS) - 1


def test_verify_button_says_ok_then_names_the_tampered_event(app, city, walked):
    number = _number(city, walked.case_id)
    client = app.test_client()
    login(client, "auditor1")
    response = client.post(f"/audit/cases/{number}/verify", data={"step": "3"})
    assert response.status_code == 302 and "step=3" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash success"' in page and number in page
    tamper(city, "UPDATE event SET actor = 'someone_else' WHERE case_id = :c AND seq = 4", c=walked.case_id)
    page = client.post(f"/audit/cases/{number}/verify", follow_redirects=True).get_data(as_text=True)
    errors = re.findall(r'<p class="flash error">(.*?)</p>', html.unescape(page))
    assert errors and number in errors[0] and "event 4" in errors[0] and "hash" in errors[0]
    assert 'class="flash success"' not in page


def test_verify_needs_the_forms_csrf_token(city, clock, walked):
    from tests.web.webkit import csrf_token, make_app

    app = make_app(city, clock, WTF_CSRF_ENABLED=True)
    number = _number(city, walked.case_id)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "auditor1", "password": PASSWORD, "csrf_token": token})
    assert client.post(f"/audit/cases/{number}/verify").status_code == 400
    page = client.get(f"/audit/cases/{number}").get_data(as_text=True)
    response = client.post(f"/audit/cases/{number}/verify", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    app.extensions["citycase"].engine.dispose()


def test_index_searches_and_lists_recent_closed_cases(app, city, walked):
    number = _number(city, walked.case_id)
    client = app.test_client()
    login(client, "auditor1")
    page = client.get("/audit").get_data(as_text=True)
    assert f'href="/audit/cases/{number}"' in page  # closed, so among the recent ones
    found = client.get(f"/audit?number={number[:8]}").get_data(as_text=True)
    assert f'href="/audit/cases/{number}"' in found.split('class="tasks recent"')[0]
    # A number that is not digits is refused by the input gate before any query, naming the field.
    bad = client.get("/audit?number=x' OR 1=1")
    assert bad.status_code == 400 and "(number)" in bad.get_data(as_text=True)


def test_every_audit_use_is_logged_in_a_chain(app, city, walked):
    number = _number(city, walked.case_id)
    client = app.test_client()
    login(client, "auditor1")
    client.get("/audit")
    client.get(f"/audit?number={number}")
    client.get(f"/audit/cases/{number}?step=2")
    client.post(f"/audit/cases/{number}/verify")
    client.get("/audit/access")
    rows = _log_rows(city, "auditor1")
    assert [(r.action, r.target) for r in rows] == [
        ("index", ""), ("search", number), ("view_case", number), ("verify", number), ("view_log", "")]
    assert json.loads(rows[1].details) == {"number": number, "found": 1}
    assert json.loads(rows[2].details) == {"step": 2}
    assert json.loads(rows[3].details)["ok"] is True
    assert all(r.role == "auditor" and r.at is not None for r in rows)
    with city.session() as s:
        assert access_log.check_chain(s) is None
    # forbidden requests write nothing
    login(client, "handler_municipal")
    client.get(f"/audit/cases/{number}")
    assert _log_rows(city, "handler_municipal") == []


def test_auditors_see_their_own_log_admins_everyones(app, city, walked):
    with city.session() as s:
        s.add(User(username="auditor2", display_name="审计员2", password_hash=generate_password_hash(PASSWORD),
                   role="auditor", active=True))
    number = _number(city, walked.case_id)
    client = app.test_client()
    login(client, "auditor2")
    client.get(f"/audit/cases/{number}")
    login(client, "auditor1")
    client.get("/audit")
    page = client.get("/audit/access").get_data(as_text=True)
    assert "auditor2" not in page and "auditor1" in page and 'class="flash success chain-ok"' in page
    login(client, "admin1")
    page = client.get("/audit/access").get_data(as_text=True)
    assert "auditor2" in page and "auditor1" in page
    page = client.get("/audit/access?user=auditor2").get_data(as_text=True)
    assert "auditor2" in page.split("<tbody>")[1] and "auditor1" not in page.split("<tbody>")[1]
    login(client, "auditor1")  # an auditor cannot widen the view
    page = client.get("/audit/access?user=auditor2").get_data(as_text=True)
    assert "auditor2" not in page.split("<tbody>")[1] and "auditor1" in page.split("<tbody>")[1]
    login(client, "leader1")
    assert client.get("/audit/access").status_code == 403


def test_an_edited_access_log_row_is_detected(app, city, walked):
    client = app.test_client()
    login(client, "auditor1")
    for _ in range(3):
        client.get("/audit")
    tamper(city, "UPDATE audit_access SET target = 'nothing to see' WHERE seq = 2")
    with city.session() as s:
        broken = access_log.check_chain(s)
    assert broken is not None and broken.seq == 2
    login(client, "admin1")
    page = client.get("/audit/access").get_data(as_text=True)
    assert "chain-broken" in page


def test_the_database_refuses_to_change_the_access_log(app, city, walked):
    from sqlalchemy.exc import DBAPIError

    client = app.test_client()
    login(client, "auditor1")
    client.get("/audit")
    for sql in ("UPDATE audit_access SET username = 'x'", "DELETE FROM audit_access"):
        with pytest.raises(DBAPIError, match="append-only"):
            with city.session() as s:
                s.execute(text(sql))
    assert len(_log_rows(city)) == 1


def test_case_page_links_the_replay_for_auditors_and_leaders(app, city, walked):
    number = _number(city, walked.case_id)
    client = app.test_client()
    for username, shown in (("auditor1", True), ("leader_municipal", True), ("dispatcher1", False)):
        login(client, username)
        page = client.get(f"/cases/{number}").get_data(as_text=True)
        assert (f'href="/audit/cases/{number}"' in page) is shown, username


def test_replay_and_verify_of_a_case_walked_on_the_real_clock(city):
    """The system clock moves during every command: replay and the verify button still agree."""
    from engine.clock import SystemClock
    from tests.web.webkit import make_app

    clock = SystemClock()
    app = make_app(city, clock)
    try:
        walked = walk_return_and_rework(city, _Moving(clock))
        number = _number(city, walked.case_id)
        client = app.test_client()
        login(client, "auditor1")
        body = client.get(f"/audit/cases/{number}").get_data(as_text=True)
        assert 'class="flash error replay-error"' not in body
        assert [s["active"] for s in _payload(body)["steps"]][STEPS["return"] - 1] == ["approve_return"]
        page = client.post(f"/audit/cases/{number}/verify", follow_redirects=True).get_data(as_text=True)
        assert 'class="flash success"' in page and 'class="flash error"' not in page
        rows = _log_rows(city, "auditor1")
        assert [r.action for r in rows] == ["view_case", "verify", "view_case"]
        assert rows[0].at <= rows[1].at <= rows[2].at <= clock.now()
    finally:
        app.extensions["citycase"].engine.dispose()


class _Moving:
    """The real clock, with ``advance`` as a no-op: the walk's wait past the warning cannot be
    simulated on it, so that step happens at once (the replay must still match)."""

    def __init__(self, clock) -> None:
        self._clock = clock

    def now(self):
        return self._clock.now()

    def advance(self, _delta):
        return self._clock.now()


def test_a_truncated_access_log_is_shown_on_its_page(app, city, walked):
    from engine.audit import checkpoints
    from engine.audit.signing import generate
    from engine.clock import SystemClock

    client = app.test_client()
    login(client, "auditor1")
    for _ in range(4):
        client.get("/audit")
    with city.session() as s:
        checkpoints.create(s, generate("ed25519"), "sha256", SystemClock().now())
    tamper(city, "DELETE FROM audit_access WHERE seq >= 3")  # what is left still chains
    login(client, "admin1")
    page = client.get("/audit/access").get_data(as_text=True)
    assert "access-cut" in page and "3–4" in page and "chain-ok" not in page

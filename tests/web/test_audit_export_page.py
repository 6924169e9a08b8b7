"""The event-log download on the audit pages: same export as the CLI, logged in the access log."""

from __future__ import annotations

import json

from engine.audit import access_log
from engine.models import Case
from tests.engine.audit.walks import walk_return_and_rework
from tests.web.webkit import login


def _number(db, case_id: int) -> str:
    with db.session() as s:
        return s.get(Case, case_id).number


def test_auditor_downloads_the_periods_xes_and_it_is_logged(app, city, clock):
    number = _number(city, walk_return_and_rework(city, clock).case_id)
    client = app.test_client()
    login(client, "auditor1")
    page = client.get("/audit").get_data(as_text=True)
    assert 'action="/audit/export"' in page and 'value="2026-11-01"' in page  # this month by default
    response = client.get("/audit/export?format=xes&from=2026-11-25&to=2026-11-25")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"] and ".xes" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert "<log" in body and number in body
    csv = client.get("/audit/export?format=csv&from=2026-11-25&to=2026-11-25&district=330191")
    assert csv.status_code == 200 and number in csv.get_data(as_text=True)
    with city.session() as s:
        rows = [r for r in reversed(access_log.entries(s, username="auditor1")) if r.action == "export"]
        assert access_log.check_chain(s) is None
    assert [r.target for r in rows] == ["xes", "csv"]
    details = json.loads(rows[0].details)
    assert details["from"] == details["to"] == "2026-11-25" and details["cases"] == 1


def test_bad_filters_are_refused_with_a_message_and_logged(app, city, clock):
    client = app.test_client()
    login(client, "auditor1")
    response = client.get("/audit/export?format=xes&from=2026-11-30&to=2026-11-01")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash error"' in page
    assert client.get("/audit/export?format=pdf&from=2026-11-01&to=2026-11-30").status_code == 302
    assert client.get("/audit/export?format=xes&from=yesterday&to=2026-11-30").status_code == 302
    with city.session() as s:
        rows = [r for r in access_log.entries(s, username="auditor1") if r.action == "export"]
    assert len(rows) == 3 and all("error" in json.loads(r.details) for r in rows)


def test_only_auditors_download(app, city, clock):
    client = app.test_client()
    for username in ("leader1", "admin1", "dispatcher1"):
        login(client, username)
        assert client.get("/audit/export?format=xes&from=2026-11-01&to=2026-11-30").status_code == 403

"""Route × role: every route of the app has a decision here, and every role (and anonymous visitors)
gets exactly what the decision says. A route added without a decision fails this test.

A request is "let in" when it is not refused for who is asking: not 401, not 403, not a redirect
to the sign-in page (a 400/404 for the sample values still counts as let in: the role check came
first). Sample path values name nothing that exists, so nothing is changed by the requests.
"""

from __future__ import annotations

import itertools

import pytest

from tests.web.webkit import make_app

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed in"  # any signed-in role
INBOX = ("acceptor", "shift_leader", "dispatcher", "handler", "supervisor", "leader")
CASE_READERS = INBOX + ("auditor", "admin")  # designers model processes; they read no case
STATS = ("leader", "shift_leader", "auditor", "admin")
# City-wide statistics: the matrix's leader leads one department (leader_sanitation_330191) and sees
# only that department's figures.
CITY_STATS = ("shift_leader", "auditor", "admin")
DESIGN_READERS = ("designer", "leader", "auditor")
COMMAND = ("leader", "shift_leader", "dispatcher", "auditor", "admin")  # the command-centre screen
USERS = {"supervisor": "supervisor1", "acceptor": "acceptor1", "shift_leader": "shiftleader1",
         "dispatcher": "dispatcher1", "handler": "handler_sanitation_330191",
         "leader": "leader_sanitation_330191", "auditor": "auditor1", "designer": "designer1", "admin": "admin1"}

DECISIONS: dict[tuple[str, str], object] = {
    ("auth.index", "GET"): SIGNED_IN, ("auth.login", "GET"): PUBLIC, ("auth.login", "POST"): PUBLIC,
    ("auth.logout", "POST"): PUBLIC, ("auth.language", "POST"): PUBLIC, ("auth.home", "GET"): SIGNED_IN,
    ("auth.second_factor_code", "GET"): PUBLIC, ("auth.second_factor_code", "POST"): PUBLIC,
    ("auth.second_factor_enrol", "GET"): PUBLIC, ("auth.second_factor_enrol", "POST"): PUBLIC,
    ("auth.sso_start", "GET"): PUBLIC, ("auth.sso_callback", "GET"): PUBLIC,
    ("static", "GET"): PUBLIC,
    ("admin_keys.index", "GET"): ("admin",), ("admin_keys.create", "POST"): ("admin",),
    ("admin_keys.revoke_key", "POST"): ("admin",),
    ("api.login", "POST"): PUBLIC, ("api.logout", "POST"): PUBLIC, ("api.openapi", "GET"): PUBLIC,
    ("api.me", "GET"): SIGNED_IN, ("api.get_case", "GET"): SIGNED_IN,
    ("api.create_case", "POST"): ("supervisor", "acceptor", "shift_leader"),
    ("api.supervise_case", "POST"): ("leader",),
    ("api.list_tasks", "GET"): INBOX, ("api.get_task", "GET"): INBOX, ("api.claim_task", "POST"): INBOX,
    ("api.release_task", "POST"): INBOX, ("api.complete", "POST"): INBOX,
    ("cases.upload", "POST"): PUBLIC,  # anonymous citizens attach photos to public reports
    ("cases.attachment", "GET"): PUBLIC,  # each photo is checked against the case's visibility
    ("cases.search", "GET"): CASE_READERS, ("cases.case_page", "GET"): CASE_READERS, ("cases.supervise_case", "POST"): ("leader",),
    ("cases.correct", "POST"): ("acceptor", "shift_leader"),  # corrections of class, urgency or place
    ("cases.merge", "POST"): ("acceptor", "shift_leader"),  # a duplicate merged into its original
    ("cases.reopen", "POST"): ("acceptor", "shift_leader"),  # the center records "not solved"
    ("report.reopen", "POST"): PUBLIC,  # the reporter, through the private follow-up token
    ("report.follow", "GET"): PUBLIC, ("report.rate", "POST"): PUBLIC,  # the private follow-up token is the key
    ("report.public", "GET"): PUBLIC, ("report.public", "POST"): PUBLIC,
    ("report.mobile", "GET"): ("supervisor",), ("report.mobile", "POST"): ("supervisor",),
    ("inbox.inbox", "GET"): INBOX, ("inbox.task_form", "GET"): INBOX, ("inbox.task_form", "POST"): INBOX,
    ("inbox.claim_task", "POST"): INBOX, ("inbox.release_task", "POST"): INBOX,
    ("open311.list_requests", "GET"): PUBLIC, ("open311.get_request", "GET"): PUBLIC,
    ("open311.services", "GET"): PUBLIC, ("open311.service", "GET"): PUBLIC,
    ("open311.token_lookup", "GET"): PUBLIC, ("open311.discovery", "GET"): PUBLIC, ("open311.media", "GET"): PUBLIC,
    ("open311.create_request", "POST"): (),  # no role: only a request carrying an API key is let in
    ("cases.case_sheet", "GET"): CASE_READERS, ("cases.export", "GET"): CASE_READERS,
    ("inbox.department", "GET"): ("leader",), ("inbox.assign_task", "POST"): ("leader",),
    ("api.assign_task", "POST"): ("leader",),
    ("inbox.claim_many", "POST"): INBOX, ("inbox.inbox_count", "GET"): INBOX,
    ("ops.healthz", "GET"): PUBLIC, ("ops.readyz", "GET"): PUBLIC,
    ("ops.metrics", "GET"): (),  # no role: a bearer token (METRICS_TOKEN) or a loopback scraper
    ("report.similar", "GET"): PUBLIC,  # anonymous reporters get only a count
    ("stats.index", "GET"): STATS, ("stats.cases", "GET"): CITY_STATS, ("stats.export", "GET"): STATS,
    ("stats.hotspots", "GET"): CITY_STATS, ("stats.command", "GET"): COMMAND, ("stats.command_data", "GET"): COMMAND,
    ("stats.settings", "GET"): ("admin",), ("stats.save_settings", "POST"): ("admin",),
    # Auditors replay every case; leaders only those they may see (another's is a 404, not a 403).
    ("audit.index", "GET"): ("auditor",), ("audit.export", "GET"): ("auditor",),
    ("audit.case_replay", "GET"): ("auditor", "leader"), ("audit.verify", "POST"): ("auditor", "leader"),
    ("audit.access", "GET"): ("auditor", "admin"),  # an auditor sees their own rows, an admin everyone's
    # Designers change the manuals; leaders and auditors read them.
    ("designer.index", "GET"): DESIGN_READERS, ("designer.version", "GET"): DESIGN_READERS,
    ("designer.download", "GET"): DESIGN_READERS, ("designer.diff", "GET"): DESIGN_READERS,
    ("designer.edit", "GET"): DESIGN_READERS, ("designer.migrate", "GET"): DESIGN_READERS,
    ("designer.migrate", "POST"): ("designer",), ("designer.approve", "POST"): ("designer",),
    ("designer.rollback_version", "POST"): ("designer",), ("designer.upload", "POST"): ("designer",),
    ("designer.save", "POST"): ("designer",), ("designer.whatif", "GET"): ("designer",),
    ("designer.whatif", "POST"): ("designer",),
    ("api.intake_observation", "POST"): (),  # no role: only a device's own key is let in
    # Saved case searches: every staff role that may use the case list keeps its own.
    ("api.task_assignees", "GET"): ("leader",),
    ("cases.save_current_search", "POST"): CASE_READERS, ("cases.delete_saved_search", "POST"): CASE_READERS,
    ("api.hotline_order", "POST"): (),  # no role: only a request signed with the 12345 secret is let in
    # The administration pages (web/admin): admins only, every page and form.
    **{(f"admin.{name}", method): ("admin",) for name, method in (
        ("index", "GET"), ("history_page", "GET"), ("user_list", "GET"), ("user_create", "POST"),
        ("user_page", "GET"), ("user_change", "POST"), ("user_active", "POST"), ("user_password", "POST"),
        ("user_second_factor", "POST"),
        ("department_list", "GET"), ("department_create", "POST"), ("department_page", "GET"),
        ("department_change", "POST"), ("grid_page", "GET"), ("grid_import", "POST"), ("class_list", "GET"),
        ("class_create", "POST"), ("class_page", "GET"), ("class_change", "POST"), ("component_list", "GET"),
        ("component_import", "POST"), ("calendar_page", "GET"), ("calendar_mark", "POST"),
        ("calendar_import", "POST"))},
    ("notifications.notices", "GET"): SIGNED_IN, ("notifications.read_all", "POST"): SIGNED_IN,
    ("notifications.settings", "GET"): SIGNED_IN, ("notifications.save_settings", "POST"): SIGNED_IN,
    ("notifications.dead_letter_page", "GET"): ("admin",), ("notifications.retry", "POST"): ("admin",),
    # Issue 16: supervisors on patrol; the shift leader's field map; the device registry for admins.
    ("patrol.duty", "GET"): ("supervisor",), ("patrol.change_duty", "POST"): ("supervisor",),
    ("api.patrol_positions", "POST"): ("supervisor",), ("patrol.field_map", "GET"): ("shift_leader", "admin"),
    ("devices.index", "GET"): ("admin",), ("devices.register", "POST"): ("admin",),
    ("devices.rotate", "POST"): ("admin",), ("devices.deactivate", "POST"): ("admin",),
}
SAMPLES = {"outbox_id": 999999, "key_id": 999999, "number": "2099010100001", "task_id": "no-such-task", "token": "n" * 22,
           "code": "E0102", "fmt": "json", "filename": "app.css", "version_id": 999999,
           "name": "case_lifecycle.bpmn", "username": "no-such-user", "device_id": "NO-SUCH-DEVICE",
           "search_id": 999999}
_addresses = itertools.count(1)


def _routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, path with the sample values) for every rule of the URL map."""
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        values = {name: SAMPLES[name] for name in rule.arguments}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, adapter.build(rule.endpoint, values, method=method)))
    return routes


def _let_in(response, endpoint: str) -> bool:
    if response.status_code in (401, 403):
        return False
    if endpoint == "auth.logout":  # signing out lands on the sign-in page by design
        return True
    return not (response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""))


@pytest.fixture
def matrix_app(city, clock):
    app = make_app(city, clock, EXCHANGE_HOTLINE_SECRET="matrix")  # the 12345 endpoint exists only when configured
    yield app
    app.extensions["citycase"].engine.dispose()


def _client(app, role: str | None):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.99.{next(_addresses) % 250}.{next(_addresses) % 250}"
    if role is not None:
        r = client.post("/api/v1/login", json={"username": USERS[role], "password": "demo1234"})
        assert r.status_code == 200, r.get_json()
    return client


def _request(client, method: str, path: str):
    if path.startswith("/api/"):
        return client.open(path, method=method, json={} if method == "POST" else None)
    return client.open(path, method=method, data={} if method == "POST" else None)


def test_every_route_has_a_decision(matrix_app):
    undecided = sorted({(e, m) for e, m, _ in _routes(matrix_app)} - set(DECISIONS))
    assert undecided == [], f"routes without an authorization decision in this file: {undecided}"
    stale = sorted(set(DECISIONS) - {(e, m) for e, m, _ in _routes(matrix_app)})
    assert stale == [], f"decisions for routes that no longer exist: {stale}"


def test_every_role_gets_what_the_decision_says(matrix_app):
    wrong = []
    clients = {role: _client(matrix_app, role) for role in (None, *USERS)}
    # signing out ends every session of the user, so those routes come last
    for endpoint, method, path in sorted(_routes(matrix_app), key=lambda r: r[0].endswith("logout")):
        decision = DECISIONS.get((endpoint, method))
        for role in clients:
            allowed = decision == PUBLIC or (decision == SIGNED_IN and role is not None) \
                or (isinstance(decision, tuple) and role in decision)
            client = _client(matrix_app, role) if endpoint.endswith("logout") else clients[role]
            response = _request(client, method, path)
            if response.status_code >= 500 or _let_in(response, endpoint) != allowed:
                wrong.append(f"{method} {path} as {role or 'anonymous'}: {response.status_code} "
                             f"(decision: {'let in' if allowed else 'refused'})")
    assert wrong == [], "\n".join(wrong)

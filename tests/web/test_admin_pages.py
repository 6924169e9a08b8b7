"""The administration pages: admins only (403 for every other role), CSRF, refusals named, history kept."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.admin.history import entries
from engine.clock import ManualClock, SystemClock
from engine.models import User
from tests.engine.admin.gridfiles import COMMUNITY, LAT0, LON0, STEP, district_file, feature, rect
from tests.web.webkit import cell_in, csrf_token, login, make_app

# File formats and the dispatch table's file name: the same words in either language.
CODES = frozenset({"GeoJSON", "CSV", "JSON", "FeatureCollection", "UTF", "dispatch", "dmn", "YYYY", "sanitation",
                   "drainage", "code", "name", "owners", "state", "installed", "class", "lon", "lat", "shapefile", "API"})
NON_ADMINS = ("supervisor1", "acceptor1", "shiftleader1", "dispatcher1", "handler_sanitation_330191", "leader1",
              "auditor1", "designer1")


def _admin_routes(app) -> list[tuple[str, str]]:
    adapter = app.url_map.bind("localhost")
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            path = adapter.build(rule.endpoint, {a: "acceptor1" for a in rule.arguments})
            out += [(m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def test_every_admin_page_and_form_refuses_other_roles(city, clock):
    app = make_app(city, clock)
    routes = _admin_routes(app)
    assert len(routes) >= 20
    for username in NON_ADMINS:
        client = app.test_client()
        login(client, username)
        for method, path in routes:
            data = {"username": "sneaky", "display_name": "x", "password": "Sneaky2026pass", "role": "admin",
                    "active": "0"} if method == "POST" else None
            assert client.open(path, method=method, data=data).status_code == 403, (username, method, path)
    anonymous = app.test_client()
    assert all("/login" in anonymous.open(p, method=m).headers.get("Location", "") for m, p in routes)
    with city.session() as s:
        assert entries(s) == [] and s.scalar(select(User).where(User.username == "sneaky")) is None
        assert s.scalar(select(User.active).where(User.username == "acceptor1"))


def test_forms_need_the_csrf_token(sqlite_city, clock):
    client = make_app(sqlite_city, clock, WTF_CSRF_ENABLED=True).test_client()
    login_page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "admin1", "password": "demo1234", "csrf_token": csrf_token(login_page)})
    form = {"username": "noforgery", "display_name": "x", "password": "N0Forgery2026", "role": "acceptor"}
    assert client.post("/admin/users", data=form).status_code == 400
    token = csrf_token(client.get("/admin/users").get_data(as_text=True))
    assert client.post("/admin/users", data={**form, "csrf_token": token}).status_code == 302
    with sqlite_city.session() as s:
        assert [e.target for e in entries(s)] == ["noforgery"]


def _upload(client, path: str, data: bytes, filename: str):
    return client.post(path, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def test_grid_import_with_an_overlap_is_refused_naming_the_codes(city, clock):
    client = make_app(city, clock).test_client()
    login(client, "admin1")
    overlap = feature(f"{COMMUNITY}009", rect(LON0 + STEP / 2, LAT0 + STEP / 2, LON0 + STEP * 1.5, LAT0 + STEP * 0.9))
    response = _upload(client, "/admin/grid", district_file([overlap]), "grid.geojson")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"{COMMUNITY}001" in page and f"{COMMUNITY}002" in page and f"{COMMUNITY}009" in page
    assert "重叠" in page  # said in the default language
    with city.session() as s:
        assert entries(s) == []
    assert _upload(client, "/admin/grid", district_file(), "grid.geojson").status_code == 302


def test_every_change_on_the_pages_is_in_the_admin_history(city, clock):
    client = make_app(city, clock).test_client()
    login(client, "admin1")
    lon, lat = cell_in(city, "330191")
    steps = [
        ("/admin/users", {"username": "zhaolei", "display_name": "赵磊", "password": "Zha0LeiCity26",
                          "role": "handler", "department_code": "sanitation"}),
        ("/admin/users/zhaolei", {"display_name": "赵磊", "role": "dispatcher", "district_code": "330191"}),
        ("/admin/users/zhaolei/password", {"password": "An0therPass26"}),
        ("/admin/users/zhaolei/active", {"active": "0"}),
        ("/admin/departments", {"code": "parks@330191", "name": "公园管理所", "handler_type": "greening"}),
        ("/admin/departments/parks@330191", {"name": "公园管理处", "handler_type": "greening", "active": "0"}),
        ("/admin/classes", {"kind": "event", "digits": "06099", "major_name": "其他", "name": "共享单车乱停",
                            "handler_type": "traffic", "suggested_limit": "4", "suggested_unit": "workhour",
                            "urgency": "normal"}),
        ("/admin/calendar/day", {"day": "2026-12-12", "mark": "makeup"}),
    ]
    for path, form in steps:
        assert client.post(path, data=form).status_code == 302, path
    assert _upload(client, "/admin/components", f"id,class_code,name,lon,lat\n3301910101900011,C0101,井盖,{lon},{lat}\n"
                   .encode(), "c.csv").status_code == 302
    assert _upload(client, "/admin/calendar/import", b"date,type,note\n2028-01-01,holiday,New Year\n",
                   "2028.csv").status_code == 302
    assert _upload(client, "/admin/grid", district_file(), "grid.geojson").status_code == 302
    page = client.get("/admin/history").get_data(as_text=True)
    with city.session() as s:
        kinds = [e.kind for e in reversed(entries(s))]
    assert kinds == ["user_created", "user_changed", "password_reset", "user_disabled", "department_created",
                     "department_changed", "class_created", "calendar_day_set", "components_imported",
                     "calendar_imported", "grid_imported"]
    assert "zhaolei" in page and "parks@330191" in page and "E06099" in page


def test_disabling_a_user_ends_their_session(sqlite_city, clock):
    app = make_app(sqlite_city, clock)
    worker, admin = app.test_client(), app.test_client()
    login(worker, "acceptor1")
    login(admin, "admin1")
    assert worker.get("/inbox").status_code == 200
    assert admin.post("/admin/users/acceptor1/active", data={"active": "0"}).status_code == 302
    assert "/login" in worker.get("/inbox").headers["Location"]
    assert worker.post("/login", data={"username": "acceptor1", "password": "demo1234"}).status_code == 200


def test_refusals_say_what_is_wrong_in_the_users_language(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "admin1")
    bad = {"username": "ab", "display_name": "x", "password": "short", "role": "handler"}
    zh = client.post("/admin/users", data=bad).get_data(as_text=True)
    assert "没有保存" in zh and "至少 10 个字符" in zh
    client.post("/language", data={"lang": "en"})
    en = client.post("/admin/users", data=bad).get_data(as_text=True)
    assert "Nothing was saved" in en and "at least 10 characters" in en
    with sqlite_city.session() as s:
        assert s.scalar(select(User).where(User.username == "ab")) is None and entries(s) == []
    taken = client.post("/admin/departments", data={"code": "sanitation", "name": "重复", "handler_type": "sanitation"})
    assert taken.status_code == 409 and "is taken already" in taken.get_data(as_text=True)


def test_december_warns_when_next_years_calendar_is_missing(sqlite_city):
    december = ManualClock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # 2027 only guessed by the holidays package
    client = make_app(sqlite_city, december).test_client()
    login(client, "admin1")
    assert 'id="calendar-missing"' in client.get("/admin").get_data(as_text=True)
    assert _upload(client, "/admin/calendar/import", b"date,type\n2027-01-01,holiday\n", "2027.csv").status_code == 302
    assert 'id="calendar-missing"' not in client.get("/admin").get_data(as_text=True)
    november = make_app(sqlite_city, ManualClock(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))).test_client()
    login(november, "admin1")
    assert 'id="calendar-missing"' not in november.get("/admin").get_data(as_text=True)


def test_the_warning_follows_the_system_clock(sqlite_city):
    from engine.admin.calendar import next_year_missing

    client = make_app(sqlite_city, SystemClock()).test_client()
    login(client, "admin1")
    page = client.get("/admin").get_data(as_text=True)
    from zoneinfo import ZoneInfo
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    with sqlite_city.session() as s:
        expected = next_year_missing(s, today)
    assert ('id="calendar-missing"' in page) == (expected is not None)
    if today.month != 12:
        assert expected is None


@pytest.mark.parametrize("path", ["/admin", "/admin/users", "/admin/departments", "/admin/grid", "/admin/classes",
                                  "/admin/components", "/admin/calendar", "/admin/history"])
def test_pages_render_in_both_languages(sqlite_city, clock, path):
    from tests.web.pagetext import ALLOWED, english_words

    client = make_app(sqlite_city, clock).test_client()
    login(client, "admin1")
    zh = client.get(path)
    assert zh.status_code == 200
    assert english_words(zh.get_data(as_text=True), ALLOWED | CODES) == [], path
    client.post("/language", data={"lang": "en"})
    assert client.get(path).status_code == 200


def test_a_new_class_page_warns_that_dispatch_has_no_rule_for_it(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "admin1")
    form = {"kind": "event", "digits": "06321", "major_name": "其他", "name": "占道晾晒", "handler_type": "street_office",
            "suggested_limit": "1", "suggested_unit": "workday", "urgency": "normal"}
    assert client.post("/admin/classes", data=form).headers["Location"].endswith("/admin/classes/E06321")
    assert 'class="flash error unmapped"' in client.get("/admin/classes/E06321").get_data(as_text=True)
    assert 'class="flash error unmapped"' not in client.get("/admin/classes/E0102").get_data(as_text=True)
    assert 'href="/designer/"' in client.get("/admin/classes/E06321").get_data(as_text=True)

"""The notification pages: my notices (the same messages the channels send), my settings with clear
errors for bad input, and the admins' dead letters with send-again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine import scheduler
from engine.audit import verify_all
from engine.clock import SystemClock
from engine.history import canonical_json
from engine.model import EngineContext
from engine.models import Outbox, TaskRow
from engine.notify.models import NotificationSetting
from engine.outbox import NEVER
from tests.engine.notify.helpers import add_user, notices_of
from tests.web import webkit
from tests.web.test_api import sign_in


def test_an_emergency_on_the_system_clock_is_due_in_minutes_and_reaches_the_duty_leader(city):
    """Through the real entry points on the real clock: the API files it, the scheduler's tick alerts."""
    add_user(city, "duty_leader", "leader", district="330191", on_duty=True)
    app = webkit.make_app(city, None)  # no CLOCK: SystemClock
    lon, lat = webkit.cell_in(city, "330191")
    acceptor = sign_in(app, "acceptor1")
    before = datetime.now(UTC)
    r = acceptor.post("/api/v1/cases", json={"source": "hotline", "class_code": "E0402", "lon": lon, "lat": lat,
                                             "description": "热线：自来水管爆裂"})
    after = datetime.now(UTC)
    assert r.status_code == 201, r.get_json()
    number = r.get_json()["number"]
    with city.session() as s:
        [task] = s.scalars(select(TaskRow).where(TaskRow.spec_id == "verify"))
    assert before + timedelta(minutes=15) <= task.due_at <= after + timedelta(minutes=15)  # natural time
    assert task.natural_time
    # the supervisor's inbox says the time left around the clock, not in working hours
    supervisor = app.test_client()
    webkit.login(supervisor, task.assignee or "supervisor1")
    inbox = supervisor.get("/inbox?tab=group").get_data(as_text=True)
    assert number in inbox and "（自然时间）" in inbox and "（工作时间）" not in inbox.split(number, 1)[1][:600]
    scheduler.tick(city.factory, EngineContext(SystemClock()))
    assert [(n.kind, n.case_number) for n in notices_of(city, "duty_leader")] == [("emergency", number)]
    client = app.test_client()
    webkit.login(client, "duty_leader")
    page = client.get("/notifications").get_data(as_text=True)
    assert number in page and "紧急" in page
    client.post("/notifications/read")
    assert all(n.read_at is not None for n in notices_of(city, "duty_leader"))
    app.extensions["citycase"].engine.dispose()
    with city.session() as s:
        assert verify_all(s) == (1, [])


def test_my_settings_are_saved_and_bad_input_is_refused_unchanged(city, clock):
    app = webkit.make_app(city, clock)
    client = app.test_client()
    webkit.login(client, "dispatcher1")
    r = client.post("/notifications/settings", data={"email": "d1@city.example", "phone": "13800000001",
                                                     "email_on": "on", "quiet_from": "22:00", "quiet_to": "07:00"})
    assert r.status_code == 303
    with city.session() as s:
        row = s.scalar(select(NotificationSetting))
        assert (row.email, row.phone, row.email_on, row.webhook_on, row.quiet_from, row.quiet_to) == \
            ("d1@city.example", "13800000001", True, False, "22:00", "07:00")
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert 'value="d1@city.example"' in page
    r = client.post("/notifications/settings", data={"email": "not-an-address", "quiet_from": "25:99",
                                                     "quiet_to": "07:00"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "未保存" in html and "电子邮箱" in html and "免打扰开始" in html
    with city.session() as s:
        assert s.scalar(select(NotificationSetting.email)) == "d1@city.example"  # unchanged
    app.extensions["citycase"].engine.dispose()


def test_admins_see_dead_letters_and_send_them_again(city, clock):
    with city.session() as s:
        s.add(Outbox(case_id=None, kind="notify.email", created_at=clock.now(), attempts=10, next_attempt_at=NEVER,
                     last_error="gave up after 10 attempts; last error: ConnectionRefusedError",
                     payload=canonical_json({"user": "dispatcher1", "case": "2026112500001", "text": "派遣超时",
                                             "address": "d1@city.example", "kind": "step_overdue"})))
    app = webkit.make_app(city, clock)
    client = app.test_client()
    webkit.login(client, "dispatcher1")
    assert client.get("/admin/notifications").status_code == 403
    webkit.login(client, "admin1")
    page = client.get("/admin/notifications").get_data(as_text=True)
    assert "2026112500001" in page and "ConnectionRefusedError" in page and "dispatcher1" in page
    with city.session() as s:
        letter = s.scalar(select(Outbox.id).where(Outbox.kind == "notify.email"))
    assert client.post(f"/admin/notifications/{letter}/retry").status_code == 303
    with city.session() as s:
        row = s.get(Outbox, letter)
        assert (row.attempts, row.next_attempt_at) == (0, clock.now())
    assert "2026112500001" not in client.get("/admin/notifications").get_data(as_text=True)
    assert client.post(f"/admin/notifications/{letter}/retry").status_code == 404  # no longer a dead letter
    app.extensions["citycase"].engine.dispose()

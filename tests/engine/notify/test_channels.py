"""Notices leave by e-mail (SMTP) and a signed webhook; failures are retried with back-off and end
as dead letters an admin can send again; quiet hours hold ordinary notices, never emergencies."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header

from sqlalchemy import select

from engine import scheduler
from engine.history import canonical_json
from engine.model import EngineContext
from engine.models import Outbox
from engine.notify.channels import ChannelSettings
from engine.notify.models import Channel
from engine.notify.queries import dead_letters, retry_dead_letter
from engine.outbox import MAX_ATTEMPTS
from tests.engine.notify.helpers import add_user, notices_of
from tests.engine.notify.stubs import SmtpStub, WebhookStub
from tests.engine.notify.test_emergency import FRIDAY_NIGHT, _night_case

SECRET = "s3cret-for-tests"


def _settings(smtp: SmtpStub, hook: WebhookStub) -> ChannelSettings:
    return ChannelSettings(frozenset({Channel.EMAIL, Channel.WEBHOOK}), smtp_host="127.0.0.1", smtp_port=smtp.port,
                           smtp_from="citycase@city.example", webhook_url=hook.url, webhook_secret=SECRET,
                           timeout=5.0)


def _subject(raw: bytes) -> str:
    return str(make_header(decode_header(email.message_from_bytes(raw)["Subject"])))


def test_an_emergency_reaches_the_duty_leader_by_email_and_signed_webhook(city, clock):
    add_user(city, "duty_leader", "leader", district="330191", on_duty=True, email="duty@city.example",
             phone="13800000000", quiet_from="22:00", quiet_to="07:00")  # quiet hours: not for emergencies
    with SmtpStub() as smtp, WebhookStub() as hook:
        driver = _night_case(city, clock, "E0401")
        counts = scheduler.tick(city.factory, EngineContext(clock), channels=_settings(smtp, hook))
        assert counts["failed"] == 0
        number = driver.case().number
        assert [m["rcpt"] for m in smtp.messages] == [["duty@city.example"]]
        assert number in _subject(smtp.messages[0]["data"]) and "紧急" in _subject(smtp.messages[0]["data"])
        [(headers, body)] = hook.requests
    sent = json.loads(body)
    assert (sent["user"], sent["phone"], sent["case"], sent["kind"], sent["emergency"]) == \
        ("duty_leader", "13800000000", number, "emergency", True)
    timestamp = headers["X-Citycase-Timestamp"]
    assert int(timestamp) == int(FRIDAY_NIGHT.timestamp())
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Citycase-Signature"] == f"sha256={expected}"
    assert [n.kind for n in notices_of(city, "duty_leader")] == ["emergency"]  # the same message in the page


def _message(city, clock, to: str, text: str) -> None:
    with city.session() as s:
        s.add(Outbox(case_id=None, kind="step_warning", created_at=clock.now(), attempts=0,
                     next_attempt_at=clock.now(),
                     payload=canonical_json({"audience": "people", "kind": "step_warning", "to": to, "text": text})))


def test_quiet_hours_hold_ordinary_notices_until_morning(city, clock):
    add_user(city, "night_owl", "dispatcher", on_duty=True, email="owl@city.example",
             quiet_from="22:00", quiet_to="07:00", webhook_on=False)
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai
    _message(city, clock, "dispatcher", "派遣环节即将超时")
    with SmtpStub() as smtp, WebhookStub() as hook:
        scheduler.tick(city.factory, EngineContext(clock), channels=_settings(smtp, hook))
        assert [n.text for n in notices_of(city, "night_owl")] == ["派遣环节即将超时"]  # in the page at once
        assert smtp.messages == [] and hook.requests == []  # webhook off; e-mail waits
        clock.set(datetime(2026, 11, 27, 23, 0, 1, tzinfo=UTC))  # 07:00:01 next morning
        scheduler.tick(city.factory, EngineContext(clock), channels=_settings(smtp, hook))
        assert [m["rcpt"] for m in smtp.messages] == [["owl@city.example"]]
        assert hook.requests == []


def test_failed_deliveries_back_off_then_become_dead_letters_an_admin_retries(city, clock):
    add_user(city, "dispatcher_x", "dispatcher", on_duty=True, email_on=False)
    _message(city, clock, "dispatcher", "派遣环节已超时")
    with SmtpStub() as smtp, WebhookStub() as hook:
        hook.status = 500
        settings = _settings(smtp, hook)
        counts = scheduler.tick(city.factory, EngineContext(clock), channels=settings)
        assert counts["failed"] == 1
        with city.session() as s:
            row = s.scalar(select(Outbox).where(Outbox.kind == "notify.webhook"))
            assert "HTTP 500" in row.last_error and row.next_attempt_at == clock.now() + timedelta(seconds=30)
        assert scheduler.tick(city.factory, EngineContext(clock), channels=settings)["failed"] == 0  # backing off
        for _ in range(MAX_ATTEMPTS - 1):
            clock.advance(timedelta(hours=1))
            scheduler.tick(city.factory, EngineContext(clock), channels=settings)
        assert len(hook.requests) == MAX_ATTEMPTS
        with city.session() as s:
            [dead] = dead_letters(s)
        assert (dead.kind, dead.user, dead.attempts) == ("notify.webhook", "dispatcher_x", MAX_ATTEMPTS)
        assert "gave up" in dead.last_error
        clock.advance(timedelta(days=1))
        scheduler.tick(city.factory, EngineContext(clock), channels=settings)
        assert len(hook.requests) == MAX_ATTEMPTS  # a dead letter is not retried by itself

        hook.status = 200  # the gateway is fixed; the admin sends it again
        with city.session() as s:
            retry_dead_letter(s, dead.id, clock.now())
        assert scheduler.tick(city.factory, EngineContext(clock), channels=settings)["failed"] == 0
        assert len(hook.requests) == MAX_ATTEMPTS + 1
        with city.session() as s:
            assert dead_letters(s) == []
            assert s.get(Outbox, dead.id).delivered_at == clock.now()

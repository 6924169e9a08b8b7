"""Outbox delivery: at least once, after commit, with back-off, never twice once delivered."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from engine import outbox
from engine.models import Outbox


def _queue(db, clock, kind="sms", **payload) -> int:
    with db.session() as s:
        return s.execute(insert(Outbox).values(
            case_id=None, kind=kind, payload=json.dumps({"to": "13800000000", "text": "hi", **payload}),
            created_at=clock.now(), attempts=0, next_attempt_at=clock.now()).returning(Outbox.id)).scalar_one()


def _row(db, row_id: int) -> Outbox:
    with db.session() as s:
        return s.get(Outbox, row_id)


class Recorder:
    """A sender that fails the first ``failures`` calls and records every call."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, kind: str, payload: dict) -> None:
        self.calls.append((kind, payload))
        if len(self.calls) <= self.failures:
            raise ConnectionError(f"gateway down (call {len(self.calls)})")


def test_backoff_doubles_from_30_seconds_and_caps_at_an_hour():
    assert [outbox.backoff(n).total_seconds() for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_failing_sender_backs_off_then_success_marks_delivered(db, clock):
    row_id = _queue(db, clock, case="2026112500001")
    sender = Recorder(failures=2)

    assert outbox.deliver(db.factory, clock, sender) == (0, 1)
    row = _row(db, row_id)
    assert (row.attempts, row.delivered_at) == (1, None)
    assert "ConnectionError: gateway down (call 1)" in row.last_error
    assert row.next_attempt_at == clock.now() + timedelta(seconds=30)

    # Not due yet: nothing is sent.
    clock.advance(timedelta(seconds=29))
    assert outbox.deliver(db.factory, clock, sender) == (0, 0)
    assert len(sender.calls) == 1

    clock.advance(timedelta(seconds=1))
    assert outbox.deliver(db.factory, clock, sender) == (0, 1)
    row = _row(db, row_id)
    assert row.attempts == 2
    assert row.next_attempt_at == clock.now() + timedelta(seconds=60)

    clock.advance(timedelta(seconds=60))
    assert outbox.deliver(db.factory, clock, sender) == (1, 0)
    row = _row(db, row_id)
    assert row.delivered_at == clock.now()
    assert row.attempts == 3
    assert sender.calls[-1] == ("sms", {"to": "13800000000", "text": "hi", "case": "2026112500001"})

    # Delivered rows are never sent again, however much later.
    for _ in range(3):
        clock.advance(timedelta(days=1))
        assert outbox.deliver(db.factory, clock, sender) == (0, 0)
    assert len(sender.calls) == 3


def test_gives_up_after_ten_attempts(db, clock):
    row_id = _queue(db, clock)
    sender = Recorder(failures=1000)
    for _ in range(outbox.MAX_ATTEMPTS):
        assert outbox.deliver(db.factory, clock, sender) == (0, 1)
        clock.advance(timedelta(hours=2))
    row = _row(db, row_id)
    assert row.attempts == outbox.MAX_ATTEMPTS
    assert row.delivered_at is None
    assert row.last_error.startswith("gave up after 10 attempts")
    assert row.next_attempt_at == outbox.NEVER
    clock.advance(timedelta(days=365))
    assert outbox.deliver(db.factory, clock, sender) == (0, 0)
    assert len(sender.calls) == outbox.MAX_ATTEMPTS


def test_each_row_once_across_batches_and_bad_payloads_fail_alone(db, clock):
    ids = [_queue(db, clock, n=i) for i in range(7)]
    with db.session() as s:
        s.add(Outbox(case_id=None, kind="sms", payload="not json", created_at=clock.now(), attempts=0,
                     next_attempt_at=clock.now()))
    sender = Recorder()
    assert outbox.deliver(db.factory, clock, sender, batch=3) == (7, 1)
    assert sorted(p["n"] for _, p in sender.calls) == list(range(7))
    with db.session() as s:
        assert outbox.pending_count(s, clock.now()) == 0
        assert all(s.get(Outbox, i).delivered_at == clock.now() for i in ids)
        bad = s.scalars(select(Outbox).where(Outbox.payload == "not json")).one()
        assert bad.delivered_at is None and "JSONDecodeError" in bad.last_error


def test_a_crash_while_sending_loses_nothing(db, clock):
    """The claim commits a lease; if the process dies mid-send, the row is sent after the lease."""
    row_id = _queue(db, clock)

    def dying(kind, payload):
        raise KeyboardInterrupt  # not an Exception: it ends the process, like a kill

    with pytest.raises(KeyboardInterrupt):
        outbox.deliver(db.factory, clock, dying)
    row = _row(db, row_id)
    assert row.delivered_at is None and row.attempts == 1
    assert outbox.deliver(db.factory, clock, Recorder()) == (0, 0)  # leased, not yet due

    clock.advance(outbox.CLAIM_LEASE)
    sender = Recorder()
    assert outbox.deliver(db.factory, clock, sender) == (1, 0)
    assert len(sender.calls) == 1
    assert _row(db, row_id).delivered_at == clock.now()


def test_log_sender_and_registry(caplog):
    assert outbox.get_sender("log") is outbox.log_sender
    with pytest.raises(ValueError, match="unknown outbox sender 'sms-gateway'.*registered: log"):
        outbox.get_sender("sms-gateway")
    with caplog.at_level(logging.INFO, logger="citycase.outbox"):
        outbox.log_sender("overdue", {"to": "sanitation@330191", "text": "处置已超时"})
    assert "overdue to sanitation@330191" in caplog.text and "处置已超时" in caplog.text


def test_outbox_sender_setting_defaults_to_log(monkeypatch):
    from engine.config import load_config

    monkeypatch.delenv("CITYCASE_OUTBOX_SENDER", raising=False)
    assert load_config()["OUTBOX_SENDER"] == "log"
    monkeypatch.setenv("CITYCASE_OUTBOX_SENDER", "push")
    assert load_config()["OUTBOX_SENDER"] == "push"

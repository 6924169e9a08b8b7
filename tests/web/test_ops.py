"""/healthz, /readyz, /metrics and JSON logs: what an operator's monitoring sees."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from engine.commands import complete_task
from engine.errors import Conflict
from engine.model import Actor, EngineContext
from engine.models import Outbox
from engine.scheduler import tick
from tests.web.webkit import login, make_app, supervisor_case, task

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def scrape(client, **kwargs) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.data
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def commands(samples, command: str, outcome: str) -> float:
    return samples.get(("citycase_commands_total", (("command", command), ("outcome", outcome))), 0.0)


def open_tasks(samples, light: str) -> float:
    return samples[("citycase_open_tasks", (("light", light),))]


def test_health_and_readiness(app, tmp_path):
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"ok": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["ok"] is True
    assert ready.get_json()["revision"] == ready.get_json()["head"]

    # a database nobody has migrated: alive, but not ready, and the answer says what to do
    bare = make_app(type("DB", (), {"url": f"sqlite:///{tmp_path / 'bare.db'}"})(), app.extensions["citycase"].clock)
    answer = bare.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["database"] is True and "citycase db upgrade" in answer.get_json()["problem"]
    assert bare.test_client().get("/healthz").status_code == 200
    bare.extensions["citycase"].engine.dispose()


def test_metrics_change_when_a_case_moves(app, city, clock):
    client = app.test_client()
    before = scrape(client)
    started = supervisor_case(city, clock)
    accept = task(city, started.case_id, "accept")
    after_start = scrape(client)
    assert commands(after_start, "start_case", "ok") == commands(before, "start_case", "ok") + 1
    assert open_tasks(after_start, "green") == open_tasks(before, "green") + 1

    ctx = EngineContext(clock)
    with city.session() as s:
        complete_task(s, ctx, accept.id, Actor("acceptor1", "acceptor", "supervision_center"), {"decision": "file"})
    with pytest.raises(Conflict), city.session() as s:  # the same task again: it is no longer open
        complete_task(s, ctx, accept.id, Actor("acceptor1", "acceptor", "supervision_center"), {"decision": "file"})
    moved = scrape(client)
    assert commands(moved, "complete_task", "ok") == commands(before, "complete_task", "ok") + 1
    assert commands(moved, "complete_task", "conflict") == commands(before, "complete_task", "conflict") + 1
    assert moved[("citycase_command_duration_seconds_count", (("command", "complete_task"),))] >= 2

    # days later the file task is overdue: red, its timers are due and the scheduler is behind
    assert moved[("citycase_timers_due", ())] == 0 and moved[("citycase_scheduler_lag_seconds", ())] == 0
    clock.advance(timedelta(days=30))
    late = scrape(client)
    assert open_tasks(late, "red") >= 1
    assert late[("citycase_timers_due", ())] >= 1
    assert late[("citycase_scheduler_lag_seconds", ())] > 0

    # the scheduler catches up: the timers fire (commands too) and their messages are delivered
    tick(city.factory, ctx, sender=lambda _kind, _payload: None)
    caught_up = scrape(client)
    assert caught_up[("citycase_timers_due", ())] == 0 and caught_up[("citycase_scheduler_lag_seconds", ())] == 0
    assert commands(caught_up, "fire_timers", "ok") >= commands(late, "fire_timers", "ok") + 1
    assert caught_up[("citycase_outbox_backlog", ())] == 0


def test_outbox_backlog_counts_undelivered_messages(app, city, clock):
    client = app.test_client()
    supervisor_case(city, clock)
    clock.advance(timedelta(days=30))
    with city.session() as s:  # messages for people become notices; a gateway message waits on its gateway
        s.add(Outbox(case_id=None, kind="sms", payload='{"to": "13800000000", "text": "hi"}', created_at=clock.now(),
                     attempts=0, next_attempt_at=clock.now()))
    tick(city.factory, EngineContext(clock), sender=_refuse)  # every delivery fails: the messages wait
    with city.session() as s:
        waiting = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.delivered_at.is_(None)))
    assert waiting >= 1
    assert scrape(client)[("citycase_outbox_backlog", ())] == waiting


def _refuse(_kind, _payload):
    raise ConnectionError("the SMS gateway is down")


def test_metrics_are_for_loopback_or_the_token(city, clock):
    app = make_app(city, clock)
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    refused = client.get("/metrics", environ_base=OUTSIDE)
    assert refused.status_code == 403 and b"METRICS_TOKEN" in refused.data

    guarded = make_app(city, clock, METRICS_TOKEN="s3cret-token")
    client = guarded.test_client()
    assert client.get("/metrics", environ_base=OUTSIDE,
                      headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    assert client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 403
    for a in (app, guarded):
        a.extensions["citycase"].engine.dispose()


def test_json_logs_carry_request_id_user_and_case(city, clock):
    app = make_app(city, clock, LOG_FORMAT="json")
    stream = io.StringIO()
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "citycase", False))
    handler.setStream(stream)
    try:
        started = supervisor_case(city, clock)
        client = app.test_client()
        login(client, "acceptor1")
        response = client.get(f"/cases/{started.number}", headers={"X-Request-ID": "req-42"})
        assert response.headers["X-Request-ID"] == "req-42"
        anonymous = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    page = next(line for line in lines if line.get("path") == f"/cases/{started.number}")
    assert page["request_id"] == "req-42" and page["user"] == "acceptor1" and page["case"] == started.number
    assert page["level"] == "INFO" and page["status"] == response.status_code
    health = next(line for line in lines if line.get("path") == "/healthz")
    assert health["request_id"] == anonymous.headers["X-Request-ID"] != "bad id with spaces"
    assert health["case"] is None

"""The scheduler: due timers fire exactly once, crashes lose nothing, concurrent schedulers never double-fire."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import threading
import time
import traceback
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from engine import commands, scheduler
from engine.clock import ManualClock
from engine.errors import Conflict
from engine.model import EngineContext
from engine.models import Case, Deadline, Event, Outbox, TaskRow
from engine.notify.models import Notice
from tests.factories import CaseDriver, task_of

DEPARTMENT = "sanitation@330191"
NOTHING = {"fired": 0, "skipped": 0, "errors": 0, "delivered": 0, "failed": 0}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, kind: str, payload: dict) -> None:
        self.calls.append((kind, payload))


def walk_to_handle(db, ctx: EngineContext) -> CaseDriver:
    driver = CaseDriver(db, ctx)
    driver.start()
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": DEPARTMENT})
    assert driver.tasks() == ["handle"]
    return driver


def deadlines_of(db, case_id: int) -> dict[str, datetime]:
    with db.session() as s:
        return {d.name: d.due_at for d in s.scalars(select(Deadline).where(Deadline.case_id == case_id))}


def outbox_kinds(db, case_id: int) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(Outbox.kind).where(Outbox.case_id == case_id).order_by(Outbox.id)))


def notices(db, case_id: int) -> list[tuple[str, str]]:
    with db.session() as s:
        return [tuple(r) for r in s.execute(select(Notice.kind, Notice.username).where(Notice.case_id == case_id)
                                            .order_by(Notice.id))]


def timer_events(db, case_id: int) -> list[Event]:
    with db.session() as s:
        return list(s.scalars(select(Event).where(Event.case_id == case_id, Event.kind == "timer")
                              .order_by(Event.seq)))


def escalations(db, case_id: int) -> list[TaskRow]:
    with db.session() as s:
        return list(s.scalars(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.spec_id == "escalate")))


def test_warning_then_overdue_escalation_fire_exactly_once(city, clock):
    ctx = EngineContext(clock)
    driver = walk_to_handle(city, ctx)
    case_id = driver.case_id
    with city.session() as s:
        handle = task_of(s, case_id, "handle")
        warn_at, due_at = handle.warn_at, handle.due_at
    assert clock.now() < warn_at < due_at
    assert deadlines_of(city, case_id) == {"handle_warning": warn_at, "handle_overdue": due_at}
    sender = Recorder()

    clock.set(warn_at - timedelta(minutes=1))
    assert scheduler.tick(city.factory, ctx, sender=sender) == NOTHING

    clock.set(warn_at + timedelta(seconds=1))
    counts = scheduler.tick(city.factory, ctx, sender=sender)
    assert counts == {**NOTHING, "fired": 1, "delivered": 1}
    assert outbox_kinds(city, case_id) == ["deadline_warning"]
    # Messages go to the department's people as notices (engine.notify), not to the raw sender: nobody
    # holds the task yet, so each handler who could take it (the demo has two per department) hears of it.
    assert sorted(notices(city, case_id)) == [("deadline_warning", "handler2_sanitation_330191"),
                                              ("deadline_warning", "handler_sanitation_330191")]
    assert sender.calls == []
    assert deadlines_of(city, case_id) == {"handle_overdue": due_at}
    assert escalations(city, case_id) == []

    # Ticking again, even later but before the due instant, adds nothing.
    clock.advance(timedelta(seconds=30))
    assert scheduler.tick(city.factory, ctx, sender=sender) == NOTHING
    assert outbox_kinds(city, case_id) == ["deadline_warning"]
    assert len(timer_events(city, case_id)) == 1

    clock.set(due_at + timedelta(seconds=1))
    counts = scheduler.tick(city.factory, ctx, sender=sender)
    assert counts == {**NOTHING, "fired": 1, "delivered": 1}
    escalate = escalations(city, case_id)
    assert len(escalate) == 1
    assert (escalate[0].role, escalate[0].department_code) == ("leader", DEPARTMENT)
    assert driver.case().department_code == DEPARTMENT
    assert outbox_kinds(city, case_id) == ["deadline_warning", "overdue"]
    assert sorted(notices(city, case_id)) == [("deadline_warning", "handler2_sanitation_330191"),
                                              ("deadline_warning", "handler_sanitation_330191"),
                                              ("overdue", "handler2_sanitation_330191"),
                                              ("overdue", "handler_sanitation_330191"),
                                              ("overdue", "leader_sanitation_330191")]
    assert deadlines_of(city, case_id) == {}
    assert sorted(driver.tasks()) == ["escalate", "handle"]

    for _ in range(2):
        clock.advance(timedelta(hours=1))
        assert scheduler.tick(city.factory, ctx, sender=sender) == NOTHING
    assert len(escalations(city, case_id)) == 1
    assert outbox_kinds(city, case_id) == ["deadline_warning", "overdue"]
    assert len(timer_events(city, case_id)) == 2
    assert len(notices(city, case_id)) == 5


def _fire_then_crash(monkeypatch, exc: BaseException, *, before: bool = False):
    """Make the next fire_timers raise (after doing its work, unless ``before``), once."""
    real = commands.fire_timers
    calls = []

    def crashing(session, ctx, case_id):
        calls.append(case_id)
        if len(calls) == 1:
            if not before:
                real(session, ctx, case_id)
            raise exc
        return real(session, ctx, case_id)

    monkeypatch.setattr(commands, "fire_timers", crashing)
    return calls


@pytest.mark.parametrize("before", [False, True], ids=["after-firing", "before-firing"])
def test_crash_between_claim_and_commit_loses_nothing(city, clock, monkeypatch, before):
    ctx = EngineContext(clock)
    driver = walk_to_handle(city, ctx)
    pending = deadlines_of(city, driver.case_id)
    clock.set(pending["handle_overdue"] + timedelta(minutes=5))
    calls = _fire_then_crash(monkeypatch, RuntimeError("power cut"), before=before)

    counts = scheduler.tick(city.factory, ctx, sender=Recorder())
    assert counts == {**NOTHING, "errors": 1}
    assert deadlines_of(city, driver.case_id) == pending  # rolled back: still due
    assert timer_events(city, driver.case_id) == []
    assert outbox_kinds(city, driver.case_id) == []
    assert escalations(city, driver.case_id) == []

    sender = Recorder()
    counts = scheduler.tick(city.factory, ctx, sender=sender)
    assert counts == {**NOTHING, "fired": 1, "delivered": 2}
    assert calls == [driver.case_id, driver.case_id]
    assert deadlines_of(city, driver.case_id) == {}
    assert len(timer_events(city, driver.case_id)) == 1
    assert sorted(outbox_kinds(city, driver.case_id)) == ["deadline_warning", "overdue"]
    assert len(escalations(city, driver.case_id)) == 1
    assert scheduler.tick(city.factory, ctx, sender=sender) == NOTHING


def test_fire_case_propagates_crashes_and_treats_conflicts_as_skips(sqlite_city, clock, monkeypatch):
    db = sqlite_city
    ctx = EngineContext(clock)
    driver = walk_to_handle(db, ctx)
    pending = deadlines_of(db, driver.case_id)
    clock.set(pending["handle_warning"] + timedelta(seconds=1))

    _fire_then_crash(monkeypatch, RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        scheduler.fire_case(db.factory, ctx, driver.case_id)
    assert deadlines_of(db, driver.case_id) == pending

    monkeypatch.undo()
    _fire_then_crash(monkeypatch, Conflict("the case was changed by someone else"))
    assert scheduler.fire_case(db.factory, ctx, driver.case_id) is None
    assert deadlines_of(db, driver.case_id) == pending
    assert timer_events(db, driver.case_id) == []

    # A lock that stays busy past SQLite's timeout is a skip too, not an error.
    monkeypatch.undo()
    busy = OperationalError("SELECT …", {}, sqlite3.OperationalError("database is locked"))
    _fire_then_crash(monkeypatch, busy, before=True)
    assert scheduler.fire_case(db.factory, ctx, driver.case_id) is None
    assert deadlines_of(db, driver.case_id) == pending

    result = scheduler.fire_case(db.factory, ctx, driver.case_id)
    assert result is not None and result.case_id == driver.case_id
    assert scheduler.fire_case(db.factory, ctx, driver.case_id) is None  # nothing due any more
    assert outbox_kinds(db, driver.case_id) == ["deadline_warning"]


def test_due_case_ids_oldest_first_and_batched_ticks(city, clock):
    ctx = EngineContext(clock)
    drivers = []
    for _ in range(3):
        drivers.append(walk_to_handle(city, ctx))
        clock.advance(timedelta(minutes=10))
    # Dispatched later = due later; start the numbering check from the newest to make order matter.
    warn = [deadlines_of(city, d.case_id)["handle_warning"] for d in drivers]
    assert warn[0] < warn[1] < warn[2]
    ids = [d.case_id for d in drivers]
    with city.session() as s:
        assert scheduler.due_case_ids(s, warn[0] - timedelta(seconds=1), 10) == []
        assert scheduler.due_case_ids(s, warn[1], 10) == ids[:2]
        assert scheduler.due_case_ids(s, warn[2] + timedelta(days=30), 10) == ids  # distinct, oldest first
        assert scheduler.due_case_ids(s, warn[2] + timedelta(days=30), 2) == ids[:2]

    # A case due exactly now is claimed but SpiffWorkflow fires only strictly after: skipped, and
    # the batched loop still ends.
    clock.set(warn[1])
    counts = scheduler.tick(city.factory, ctx, batch=1, sender=Recorder())
    assert counts == {**NOTHING, "fired": 1, "skipped": 1, "delivered": 1}

    clock.set(warn[2] + timedelta(days=30))
    counts = scheduler.tick(city.factory, ctx, batch=1, sender=Recorder())
    assert counts == {**NOTHING, "fired": 3, "delivered": 5}
    with city.session() as s:
        assert scheduler.due_case_ids(s, clock.now(), 10) == []
    for case_id in ids:
        assert len(escalations(city, case_id)) == 1


# --- two schedulers racing, in two OS processes -----------------------------------------------------

RACE_CASES = 30


def _race_worker(url: str, instant: str, barrier, results) -> None:
    """One scheduler process: its own engine, a ManualClock at ``instant``, one tick."""
    try:
        from engine.db import make_engine, session_factory

        engine = make_engine(url)
        factory = session_factory(engine)
        ctx = EngineContext(ManualClock(datetime.fromisoformat(instant)))
        sent: list[tuple[str, str]] = []
        barrier.wait(timeout=120)
        counts = scheduler.tick(factory, ctx, batch=4, outbox_batch=5,
                                sender=lambda kind, payload: sent.append((payload["case"], kind)))
        engine.dispose()
        results.put(("ok", os.getpid(), counts, sent))
    except BaseException:
        results.put(("error", os.getpid(), traceback.format_exc(), []))


def test_two_scheduler_processes_fire_every_timer_exactly_once(city, clock):
    ctx = EngineContext(clock)
    case_ids = []
    for i in range(RACE_CASES):
        case_ids.append(walk_to_handle(city, ctx).case_id)
        if i % 10 == 9:
            clock.advance(timedelta(minutes=1))
    with city.session() as s:
        due_before = {}
        for d in s.scalars(select(Deadline).where(Deadline.case_id.in_(case_ids))):
            due_before.setdefault(d.case_id, set()).add(d.task_id)
        latest = s.scalar(select(func.max(Deadline.due_at)))
        numbers = dict(s.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids))).all())
    assert all(len(tasks) == 2 for tasks in due_before.values()) and len(due_before) == RACE_CASES
    instant = (latest + timedelta(minutes=1)).isoformat()

    mp = multiprocessing.get_context("spawn")
    barrier = mp.Barrier(2)
    results = mp.Queue()
    procs = [mp.Process(target=_race_worker, args=(city.url, instant, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    try:
        outcomes = [results.get(timeout=300) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    errors = [o[2] for o in outcomes if o[0] != "ok"]
    assert not errors, "\n".join(errors)

    counts = [o[2] for o in outcomes]
    assert sum(c["fired"] for c in counts) == RACE_CASES, counts
    assert sum(c["errors"] for c in counts) == 0, counts
    assert sum(c["delivered"] for c in counts) == 2 * RACE_CASES, counts
    assert [item for o in outcomes for item in o[3]] == []  # messages for people are not raw sends …
    with city.session() as s:  # … but one notice per message and person, whichever scheduler fanned it out
        handler = Counter(s.execute(select(Notice.case_number, Notice.kind)
                                    .where(Notice.username == "handler_sanitation_330191")).all())
    assert handler == Counter({(numbers[c], k): 1 for c in case_ids for k in ("deadline_warning", "overdue")})

    with city.session() as s:
        now = datetime.fromisoformat(instant)
        assert s.scalar(select(func.count()).select_from(Deadline).where(Deadline.due_at <= now)) == 0
        assert s.scalar(select(func.count()).select_from(Outbox).where(Outbox.delivered_at.is_(None))) == 0
        events = s.execute(select(Event.case_id, Event.data).where(Event.kind == "timer")).all()
        escalate = Counter(s.scalars(select(TaskRow.case_id).where(TaskRow.spec_id == "escalate")))
        outbox_rows = Counter(s.execute(select(Outbox.case_id, Outbox.kind)).all())
    fired: dict[int, list[str]] = {}
    for case_id, data in events:
        fired.setdefault(case_id, []).extend(json.loads(data)["fired"])
    assert Counter(case_id for case_id, _ in events) == Counter({c: 1 for c in case_ids})
    assert {c: sorted(ids) for c, ids in fired.items()} == {c: sorted(t) for c, t in due_before.items()}
    assert escalate == Counter({c: 1 for c in case_ids})
    assert outbox_rows == Counter({(c, k): 1 for c in case_ids for k in ("deadline_warning", "overdue")})


# --- entry points ---------------------------------------------------------------------------------

def _config(db, **overrides):
    from engine.config import load_config

    return load_config({"DATABASE_URL": db.url, "SCHEDULER_TICK_SECONDS": 0.05, "OUTBOX_SENDER": "log",
                        **overrides})


def _wait_for(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_start_background_ticks_on_the_injected_clock(sqlite_city, clock):
    db = sqlite_city
    ctx = EngineContext(clock)
    driver = walk_to_handle(db, ctx)
    clock.set(deadlines_of(db, driver.case_id)["handle_overdue"] + timedelta(seconds=1))
    ticks: list[dict] = []
    sched = scheduler.start_background(_config(db), clock, on_tick=ticks.append)
    try:
        job = sched.get_job(scheduler.JOB_ID)
        assert (job.max_instances, job.coalesce) == (1, True)
        assert job.trigger.interval == timedelta(seconds=0.05)
        assert _wait_for(lambda: any(t["fired"] for t in ticks))
    finally:
        sched.shutdown(wait=True)
        sched.citycase_engine.dispose()
    assert sum(t["fired"] for t in ticks) == 1
    assert len(escalations(db, driver.case_id)) == 1


def test_run_forever_stops_cleanly_on_sigterm(sqlite_city, clock):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    db = sqlite_city
    ctx = EngineContext(clock)
    driver = walk_to_handle(db, ctx)
    clock.set(deadlines_of(db, driver.case_id)["handle_overdue"] + timedelta(seconds=1))
    ticks: list[dict] = []

    def on_tick(counts):
        ticks.append(counts)
        if len(ticks) == 3:  # the first tick runs at once, the next ones on the interval
            os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    watchdog = threading.Timer(30, lambda: os.kill(os.getpid(), signal.SIGTERM))
    watchdog.start()
    try:
        scheduler.run_forever(_config(db), clock, on_tick)
    finally:
        watchdog.cancel()
    assert signal.getsignal(signal.SIGTERM) is before
    assert len(ticks) >= 3
    assert ticks[0]["fired"] == 1 and all(t["fired"] == 0 for t in ticks[1:])

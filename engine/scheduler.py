"""The timer and outbox scheduler, safe to run in several processes and on several nodes at once.

A tick reads the case ids whose ``deadline`` rows are due on the injected clock and fires each
case in its own transaction (``fire_case``):

* PostgreSQL: lock the case row and then its due deadline rows with ``FOR UPDATE SKIP LOCKED``.
  A case another scheduler (or a user's command) holds is skipped, never waited for; rows that
  another scheduler already fired are gone by the time the lock is granted, so nothing fires
  twice. The case row is locked first because every engine command locks the case before it
  rewrites the deadline rows; taking the locks in the other order could deadlock with them.
* SQLite: take the write lock with ``BEGIN IMMEDIATE`` before the first read, then check that
  the rows are still due. Writers queue on the lock (busy timeout), so the same holds.

``engine.commands.fire_timers`` deletes the fired deadline rows inside that transaction, so a
crash before the commit leaves them due for the next tick. After the timers, the tick delivers
the outbox (``engine.outbox.deliver``).

The scheduler reads time only from ``ctx.clock``; the entry points (CLI, web app) pass a
``SystemClock``, tests and the simulator a ``ManualClock``. No Flask here.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine import commands, outbox
from engine.audit.checkpoints import CheckpointPolicy
from engine.clock import Clock, ManualClock, SystemClock
from engine.commands.results import CaseResult
from engine.errors import Conflict
from engine.exchange.peers import Peer, peers_from_config
from engine.model import EngineContext
from engine.models import Case, Deadline
from engine.notify.channels import ChannelSettings, routing_sender
from engine.notify.fanout import fan_out

log = logging.getLogger("citycase.scheduler")

JOB_ID = "citycase-scheduler-tick"


# --- claiming -----------------------------------------------------------------------------------

def _due_cases(session: Session, now: datetime, limit: int,
               after: tuple[datetime, int] | None = None) -> list[tuple[int, datetime]]:
    """(case id, earliest due instant) of cases with due timers, oldest first, keyset after ``after``."""
    first_due = func.min(Deadline.due_at)
    stmt = (select(Deadline.case_id, first_due.label("first_due"))
            .where(Deadline.due_at <= now)
            .group_by(Deadline.case_id)
            .order_by(first_due, Deadline.case_id)
            .limit(limit))
    if after is not None:
        stmt = stmt.having(or_(first_due > after[0], and_(first_due == after[0], Deadline.case_id > after[1])))
    return [(row.case_id, row.first_due) for row in session.execute(stmt)]


def due_case_ids(session: Session, now: datetime, limit: int) -> list[int]:
    """Distinct ids of cases with deadline rows due at ``now`` (due_at <= now), oldest first."""
    return [case_id for case_id, _ in _due_cases(session, now, limit)]


def _claim(session: Session, case_id: int, now: datetime) -> bool:
    """Inside the case's transaction: may this scheduler fire the case now?"""
    due = select(Deadline.id).where(Deadline.case_id == case_id, Deadline.due_at <= now)
    if session.get_bind().dialect.name == "postgresql":
        case = session.execute(select(Case.id).where(Case.id == case_id)
                               .with_for_update(skip_locked=True)).first()
        if case is None:
            return False  # another scheduler or a user's command holds the case: next tick
        return bool(session.execute(due.with_for_update(skip_locked=True)).all())
    # SQLite: the transaction began with BEGIN IMMEDIATE, so this read already sees every
    # commit made before we got the write lock (another scheduler's included).
    return session.execute(due.limit(1)).first() is not None


def _transient(session: Session, exc: OperationalError) -> bool:
    """SQLite's lock stayed busy past the timeout, or PostgreSQL aborted us (deadlock, serialization)."""
    if session.get_bind().dialect.name == "sqlite":
        return "locked" in str(exc.orig) or "busy" in str(exc.orig)
    return str(getattr(exc.orig, "sqlstate", "") or "").startswith("40")


def fire_case(factory: sessionmaker[Session], ctx: EngineContext, case_id: int) -> CaseResult | None:
    """Fire the case's due timers in one committed transaction.

    Returns the command result, or None when there was nothing to do for this scheduler:
    another scheduler owns or already fired the timers, the case changed under us (Conflict),
    the database was busy (SQLite lock timeout, PostgreSQL deadlock), or no timer was due after all (SpiffWorkflow fires a
    timer only once the clock is strictly past its instant).
    """
    now = ctx.clock.now()
    at_now = replace(ctx, clock=ManualClock(now))  # the claim and the firing see the same instant
    try:
        with outbox.write_transaction(factory) as session:
            try:
                if not _claim(session, case_id, now):
                    return None
                return commands.fire_timers(session, at_now, case_id)
            except OperationalError as exc:
                if _transient(session, exc):
                    raise Conflict(f"database busy: {exc.orig}") from exc
                raise
    except Conflict as exc:
        log.info("case %s changed while its timers fired (%s); retrying next tick", case_id, exc)
        return None


def tick(factory: sessionmaker[Session], ctx: EngineContext, *, batch: int = 500,
         sender: outbox.Sender | None = None, outbox_batch: int = 100,
         checkpoints: CheckpointPolicy | None = None, snapshots: bool = False,
         devices: bool = False, channels: ChannelSettings | None = None,
         exchange: Sequence[Peer] = ()) -> dict[str, int]:
    """Fire every case with due timers (claimed ``batch`` at a time), then deliver the outbox.

    Returns {"fired": cases whose timers fired, "skipped": cases left to another scheduler or
    the next tick, "errors": cases whose firing raised (logged; retried next tick),
    "delivered"/"failed": outbox delivery attempts}. With ``snapshots`` it also freezes last
    month's evaluation once the first working day of this month has come (engine.evaluation);
    with ``devices`` it files a maintenance case for each device silent past its rule (engine.devices).
    Messages for people are fanned out into notices (each counted as delivered) and, with
    ``channels``, sent by e-mail and webhook (engine.notify). For each ``exchange`` peer it sends
    what the peer has not had yet (engine.exchange).
    """
    counts = {"fired": 0, "skipped": 0, "errors": 0, "delivered": 0, "failed": 0}
    now = ctx.clock.now()
    after: tuple[datetime, int] | None = None
    while True:
        with factory() as session:
            due = _due_cases(session, now, batch, after)
        for case_id, _ in due:
            try:
                result = fire_case(factory, ctx, case_id)
            except Exception:
                # One broken case must not stop the others; its rows stay due for the next tick.
                log.exception("case %s: firing its timers failed", case_id)
                counts["errors"] += 1
                continue
            counts["fired" if result is not None else "skipped"] += 1
        if len(due) < batch:
            break
        # Keyset on (first due, case id): a case skipped in this tick is not retried before the next.
        after = (due[-1][1], due[-1][0])
    # Messages for people become notices and channel rows first, so this tick already sends them.
    # A message handed to its people (their notices) counts as delivered.
    fanned = fan_out(factory, ctx.clock, channels.enabled if channels else frozenset(), ctx.timezone)
    send = sender or outbox.log_sender
    if channels is not None:
        send = routing_sender(channels, ctx.clock, send)
    delivered, failed = outbox.deliver(factory, ctx.clock, send, batch=outbox_batch)
    counts["delivered"], counts["failed"] = fanned + delivered, failed
    if checkpoints is not None:
        counts["checkpoints"] = _checkpoint(factory, checkpoints, now)
    if snapshots:
        counts["snapshots"] = _snapshot(factory, ctx, now)
    if devices:
        counts["silent"] = _silent_devices(factory, ctx)
    if exchange:
        counts["exchanged"] = _exchange(factory, ctx, exchange, now)
    return counts


EXCHANGE_ROUNDS = 10  # batches per peer and tick: a backlog drains over a few ticks, other work goes on


def _exchange(factory: sessionmaker[Session], ctx: EngineContext, peers: Sequence[Peer], now: datetime) -> int:
    """Send each peer its next batches; a failing peer is retried after back-off, the others go on."""
    from engine.exchange.push import push

    sent = 0
    for peer in peers:
        for _ in range(EXCHANGE_ROUNDS):
            try:
                result = push(factory, peer, now, ctx.timezone)
            except Exception:
                log.exception("exchange with %s failed; retrying next tick", peer.name)
                break
            sent += result.sent
            if result.failed or result.sent == 0:
                break
    return sent


def _silent_devices(factory: sessionmaker[Session], ctx: EngineContext) -> int:
    """Devices silent past their rule's limit get one maintenance case each; a failure waits for the next tick."""
    from engine.db import transaction
    from engine.devices.silence import check_silent

    try:
        with transaction(factory) as session:
            return len(check_silent(session, ctx))
    except Exception:
        log.exception("checking for silent devices failed; retrying next tick")
        return 0


def _snapshot(factory: sessionmaker[Session], ctx: EngineContext, now: datetime) -> int:
    """Freeze last month's evaluation when due; a failure is logged and retried next tick."""
    from engine.db import transaction
    from engine.evaluation.snapshots import freeze_due

    try:
        with transaction(factory) as session:
            return 1 if freeze_due(session, now, ctx.timezone, ctx.work_windows) else 0
    except Exception:
        log.exception("freezing last month's evaluation failed; retrying next tick")
        return 0


def _checkpoint(factory: sessionmaker[Session], policy: CheckpointPolicy, now: datetime) -> int:
    """Sign a checkpoint of the event log when due; a failure (e.g. a lock timeout) waits for the next tick."""
    from engine.audit.checkpoints import create_if_due

    try:
        return 1 if create_if_due(factory, policy, now) is not None else 0
    except Exception:
        log.exception("signing a checkpoint of the event log failed; retrying next tick")
        return 0


def did_work(counts: dict[str, int]) -> bool:
    return any(counts.values())


# --- running it -------------------------------------------------------------------------------

def _setup(config: dict[str, Any], clock: Clock | None):
    from engine.db import make_engine, session_factory

    engine = make_engine(config["DATABASE_URL"])
    ctx = EngineContext.from_config(config, clock or SystemClock())
    sender = outbox.get_sender(config.get("OUTBOX_SENDER") or "log")
    policy = CheckpointPolicy.from_config(config)
    peers = tuple(peers_from_config(config))
    return engine, session_factory(engine), ctx, (sender, policy, ChannelSettings.from_config(config), peers)


Jobs = tuple[outbox.Sender, CheckpointPolicy, ChannelSettings, tuple[Peer, ...]]


def _job(factory, ctx: EngineContext, jobs: Jobs,
         on_tick: Callable[[dict[str, int]], None] | None) -> dict[str, int]:
    sender, policy, channels, peers = jobs
    counts = tick(factory, ctx, sender=sender, checkpoints=policy, snapshots=True, devices=True, channels=channels,
                  exchange=peers)
    if on_tick is not None:
        on_tick(counts)
    elif did_work(counts):
        log.info("scheduler tick: %s", counts)
    return counts


def _add_job(scheduler, config: dict[str, Any], factory, ctx: EngineContext,
             jobs: Jobs, on_tick: Callable[[dict[str, int]], None] | None) -> None:
    from apscheduler.triggers.interval import IntervalTrigger

    seconds = float(config.get("SCHEDULER_TICK_SECONDS") or 5.0)
    if seconds <= 0:
        raise ValueError(f"SCHEDULER_TICK_SECONDS must be positive, not {seconds}")
    scheduler.add_job(_job, IntervalTrigger(seconds=seconds, timezone=UTC), args=(factory, ctx, jobs, on_tick),
                      id=JOB_ID, name="citycase timers and outbox", max_instances=1, coalesce=True,
                      misfire_grace_time=None, replace_existing=True)


def start_background(config: dict[str, Any], clock: Clock | None = None,
                     on_tick: Callable[[dict[str, int]], None] | None = None):
    """Start ticking every SCHEDULER_TICK_SECONDS in a background thread (e.g. in the web process).

    The scheduler has its own engine and session factory; call ``.shutdown()`` to stop it.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    engine, factory, ctx, jobs = _setup(config, clock)
    scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
    _add_job(scheduler, config, factory, ctx, jobs, on_tick)
    scheduler.citycase_engine = engine  # kept alive with the scheduler; dispose after shutdown if wanted
    scheduler.start()
    return scheduler


def run_forever(config: dict[str, Any], clock: Clock | None = None,
                on_tick: Callable[[dict[str, int]], None] | None = None) -> None:
    """Tick now and then every SCHEDULER_TICK_SECONDS until Ctrl-C or SIGTERM (the CLI's loop).

    Stopping waits for a tick in progress to finish; a process killed harder loses nothing
    either, since every case and every outbox batch commits on its own.
    """
    from apscheduler.schedulers.blocking import BlockingScheduler

    engine, factory, ctx, jobs = _setup(config, clock)
    scheduler = BlockingScheduler(timezone=UTC)
    _add_job(scheduler, config, factory, ctx, jobs, on_tick)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        _job(factory, ctx, jobs, on_tick)
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopping")
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        engine.dispose()


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


__all__ = ["due_case_ids", "fire_case", "tick", "did_work", "start_background", "run_forever"]

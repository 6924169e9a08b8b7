"""Deliver outbox rows (SMS, push, upward sync) after the engine's transaction has committed.

Engine commands write outbox rows inside their own transaction; nothing leaves the system
until that transaction has committed. ``deliver`` then sends them at least once:

1. **Claim** a batch in a short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` on
   PostgreSQL (``BEGIN IMMEDIATE`` on SQLite), count the attempt and lease the rows by moving
   ``next_attempt_at`` ``CLAIM_LEASE`` ahead, commit. Other deliverers (other scheduler
   processes or nodes) neither see nor wait for the claimed rows.
2. **Send** each row with ``sender(kind, payload)`` outside any transaction, so a slow
   gateway never holds a database lock (on SQLite that lock would stop every engine command).
3. **Record** the results of the batch in a second short transaction: ``delivered_at`` on
   success; ``last_error`` and an exponential back-off on failure; after ``MAX_ATTEMPTS``
   the row is left failed (``next_attempt_at`` = ``NEVER``).

A process that dies between 1 and 3 loses nothing: its rows become due again when the
lease runs out and are sent again (at least once — gateways should tolerate a repeat).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.db import transaction
from engine.models import Outbox

log = logging.getLogger("citycase.outbox")

Sender = Callable[[str, dict[str, Any]], None]

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 10
CLAIM_LEASE = timedelta(minutes=5)  # longer than any sender may take for one batch
NEVER = datetime(9999, 12, 31, tzinfo=UTC)
# Messages for people are fanned out into notices and channel rows (engine.notify.fanout), never
# sent as they are; this is how their canonical JSON payload marks them.
PEOPLE_MARK = '"audience":"people"'
ERROR_MAX_CHARS = 2000


# --- senders ------------------------------------------------------------------------------------

def log_sender(kind: str, payload: dict[str, Any]) -> None:
    """The default sender: one log line per message (a real SMS/push gateway is configured later)."""
    log.info("outbox %s to %s: %s", kind, payload.get("to") or "-",
             json.dumps(payload, ensure_ascii=False, sort_keys=True))


SENDERS: dict[str, Sender] = {"log": log_sender}


def get_sender(name: str) -> Sender:
    """The sender registered under ``name`` (config key OUTBOX_SENDER)."""
    try:
        return SENDERS[name]
    except KeyError:
        raise ValueError(f"unknown outbox sender {name!r} (CITYCASE_OUTBOX_SENDER); "
                         f"registered: {', '.join(sorted(SENDERS))}") from None


# --- transactions that take the write lock up front ------------------------------------------

def write_transaction(factory: sessionmaker[Session]):
    """A transaction that, on SQLite, takes the write lock at BEGIN (see engine.db.transaction)."""
    return transaction(factory, immediate=True)


# --- delivery -----------------------------------------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min, … capped at one hour."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


@dataclass
class _Claimed:
    id: int
    kind: str
    payload: str
    attempts: int  # including the attempt being made now


def _claim(factory: sessionmaker[Session], now: datetime, batch: int) -> list[_Claimed]:
    with write_transaction(factory) as session:
        stmt = (select(Outbox.id, Outbox.kind, Outbox.payload, Outbox.attempts)
                .where(Outbox.delivered_at.is_(None), Outbox.next_attempt_at <= now,
                       Outbox.payload.not_like(f"%{PEOPLE_MARK}%"))
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(batch))
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = session.execute(stmt).all()
        claimed = []
        for row in rows:
            attempts = (row.attempts or 0) + 1
            session.execute(update(Outbox).where(Outbox.id == row.id)
                            .values(attempts=attempts, next_attempt_at=now + CLAIM_LEASE))
            claimed.append(_Claimed(row.id, row.kind, row.payload, attempts))
    return claimed


def _send(sender: Sender, row: _Claimed) -> str | None:
    """Send one row; the error text on failure, None on success."""
    try:
        payload = json.loads(row.payload)
        if not isinstance(payload, dict):
            raise ValueError("the payload is not a JSON object")
        sender(row.kind, payload)
    except Exception as exc:  # a gateway error of any kind is a failed attempt, never a crash
        log.warning("outbox row %s (%s) attempt %s failed: %s", row.id, row.kind, row.attempts, exc)
        return f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]
    return None


def _record(factory: sessionmaker[Session], now: datetime, results: list[tuple[_Claimed, str | None]]) -> None:
    with write_transaction(factory) as session:
        for row, error in results:
            # Only while our claim stands: if the lease ran out and another deliverer claimed the
            # row again, its attempt count moved on and that deliverer records the outcome.
            mine = (Outbox.id == row.id, Outbox.attempts == row.attempts, Outbox.delivered_at.is_(None))
            if error is None:
                values: dict[str, Any] = {"delivered_at": now}
            elif row.attempts >= MAX_ATTEMPTS:
                values = {"last_error": f"gave up after {row.attempts} attempts; last error: {error}",
                          "next_attempt_at": NEVER}
            else:
                values = {"last_error": error, "next_attempt_at": now + backoff(row.attempts)}
            session.execute(update(Outbox).where(*mine).values(**values))


def deliver(factory: sessionmaker[Session], clock: Clock, sender: Sender, *, batch: int = 100) -> tuple[int, int]:
    """Send every pending outbox row that is due on ``clock``; (delivered, failed) attempts."""
    delivered = failed = 0
    while True:
        now = clock.now()
        claimed = _claim(factory, now, batch)
        if not claimed:
            break
        results = [(row, _send(sender, row)) for row in claimed]
        _record(factory, clock.now(), results)
        ok = sum(1 for _, error in results if error is None)
        delivered += ok
        failed += len(results) - ok
        if len(claimed) < batch:
            break
    return delivered, failed


def pending_count(session: Session, now: datetime) -> int:
    """Rows waiting to be sent (due now); for status pages and tests."""
    return session.scalar(select(func.count()).select_from(Outbox)
                          .where(Outbox.delivered_at.is_(None), Outbox.next_attempt_at <= now)) or 0


__all__ = ["SENDERS", "Sender", "log_sender", "get_sender", "deliver", "backoff", "write_transaction",
           "pending_count", "MAX_ATTEMPTS", "NEVER", "CLAIM_LEASE"]

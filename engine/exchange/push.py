"""Send each peer what it has not acknowledged yet: in order, at least once, never two senders at once.

One round per peer: **claim** the peer's cursor with a lease (an atomic UPDATE that only one
scheduler process wins), **read** the next batch of messages, **send** it outside any transaction,
**record** the result — the cursor moves past the batch on a 2xx answer, or the attempt is counted
with the outbox's back-off and the error kept for the admins. A process that dies mid-round
leaves the lease to run out; the batch is sent again (receivers drop repeats by message id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine import signed_post as signing
from engine.db import transaction
from engine.exchange.messages import envelope, next_batch
from engine.exchange.peers import Peer
from engine.models import ExchangeCursor
from engine.outbox import ERROR_MAX_CHARS, backoff

log = logging.getLogger("citycase.exchange")

LEASE = timedelta(minutes=2)
TIMEOUT_SECONDS = 20
# (peer, body, now) → HTTP status of the signed POST; raises OSError when the peer cannot be reached
Post = Callable[[Peer, bytes, datetime], int]


@dataclass(frozen=True)
class RoundResult:
    peer: str
    sent: int  # messages acknowledged in this round
    failed: bool  # the peer refused or could not be reached (retried after back-off)


def http_post(peer: Peer, body: bytes, now: datetime) -> int:
    return signing.post(peer.url, body, peer.secret, now, TIMEOUT_SECONDS)


def push(factory: sessionmaker[Session], peer: Peer, now: datetime, tz: str, post: Post = http_post) -> RoundResult:
    """One round for ``peer`` (see the module docstring). Never raises for the peer's failures."""
    cursor = _claim(factory, peer, now)
    if cursor is None:
        return RoundResult(str(peer.name), 0, False)  # another scheduler holds it, or back-off runs
    with factory() as session:
        batch = next_batch(session, peer, cursor, now, tz)
    if not batch.messages:
        _record(factory, peer, batch.last_event_id, now, error=None)
        return RoundResult(str(peer.name), 0, False)
    body = envelope(peer, batch.messages, now, tz)
    try:
        status = post(peer, body, now)
        error = None if 200 <= status < 300 else f"HTTP {status} from {peer.url}"
    except OSError as exc:
        error = f"{peer.url} could not be reached: {exc}"
    if error:
        log.warning("exchange with %s: %s; retrying after back-off", peer.name, error)
    _record(factory, peer, cursor if error else batch.last_event_id, now, error=error)
    return RoundResult(str(peer.name), 0 if error else len(batch.messages), error is not None)


def _claim(factory: sessionmaker[Session], peer: Peer, now: datetime) -> int | None:
    _ensure_cursor(factory, peer, now)
    with transaction(factory, immediate=True) as session:
        won = session.execute(
            update(ExchangeCursor)
            .where(ExchangeCursor.peer == peer.name, ExchangeCursor.next_attempt_at <= now,
                   or_(ExchangeCursor.lease_until.is_(None), ExchangeCursor.lease_until < now))
            .values(lease_until=now + LEASE)
            .returning(ExchangeCursor.last_event_id)).first()
    return None if won is None else int(won[0])


def _ensure_cursor(factory: sessionmaker[Session], peer: Peer, now: datetime) -> None:
    """A peer's cursor starts at the beginning of the history (a new peer receives everything)."""
    with factory() as session:
        if session.get(ExchangeCursor, str(peer.name)) is not None:
            return
    try:
        with transaction(factory, immediate=True) as session:
            session.add(ExchangeCursor(peer=str(peer.name), last_event_id=0, attempts=0, next_attempt_at=now))
    except IntegrityError:
        pass  # another scheduler created it first


def _record(factory: sessionmaker[Session], peer: Peer, last_event_id: int, now: datetime, error: str | None) -> None:
    with transaction(factory, immediate=True) as session:
        row = session.get(ExchangeCursor, str(peer.name))
        if row is None:
            return
        row.lease_until = None
        if error is None:
            row.last_event_id = last_event_id
            row.attempts = 0
            row.next_attempt_at = now
            row.last_error = None
            row.last_sent_at = now
        else:
            row.attempts = (row.attempts or 0) + 1
            row.next_attempt_at = now + backoff(row.attempts)
            row.last_error = error[:ERROR_MAX_CHARS]

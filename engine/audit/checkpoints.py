"""Signed checkpoints of the global event log: (tree size, root, time, previous checkpoint) signed.

Each checkpoint also signs the auditor access log's head (``access_size`` entries, the hash of
the last one): the access log is its own hash chain, which shows an edited entry but not a cut
tail; the signed head anchors its end, so a truncated access log is found (``log.check_access``).
Checkpoints signed before that (migration 0014) have no head and sign exactly what they did.

A checkpoint covers every event with id <= ``last_event_id``, in id order; its root is the
RFC 6962 Merkle tree head over their hashes (engine.audit.merkle). Checkpoints chain: each
names the hash of the one before. The scheduler tick makes one every CHECKPOINT_EVERY_EVENTS
events or CHECKPOINT_EVERY_MINUTES minutes (``due``), ``citycase checkpoint create`` on demand.

The prefix must be gap-free: on PostgreSQL, concurrent commands take event ids from a
sequence when they insert but commit in any order, so "max(id)" can be visible while a lower
id is still in flight — a checkpoint over it would later gain a leaf in the middle and never
verify again. ``LOCK TABLE event IN SHARE MODE`` waits for every transaction that has inserted
events (they hold ROW EXCLUSIVE until they end) and holds new inserts back until this
transaction ends, so max(id) read under it has no gap below it. It is held only for hashing the
events since the previous checkpoint (the tree's right edge is stored, ``frontier``), with a
lock timeout so a stuck transaction makes the checkpoint wait for the next tick instead of
stalling writers. SQLite has one writer at a time, and ids are assigned at insert under its
lock: BEGIN IMMEDIATE is enough there.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine.audit import access_log
from engine.audit.merkle import TreeBuilder
from engine.audit.rows import raw_rows
from engine.audit.signing import PublicKey, SigningKey, digest_function
from engine.history import GENESIS
from engine.models import Checkpoint, Event

EXPORT_FORMAT = "citycase-checkpoints-1"


@dataclass(frozen=True)
class CheckpointBody:
    """What is signed. ``created_at`` is ISO 8601 UTC."""

    tree_size: int
    last_event_id: int
    root: str
    created_at: str
    prev_hash: str
    hash_alg: str
    sig_alg: str
    key_id: str
    access_size: int | None = None  # auditor access log entries when signed (None: signed before 0014)
    access_hash: str | None = None  # … and the hash of the last of them

    def message(self) -> bytes:
        fields = asdict(self)
        if self.access_size is None and self.access_hash is None:  # exactly what older checkpoints signed
            del fields["access_size"], fields["access_hash"]
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)

    def digest(self) -> str:
        return digest_function(self.hash_alg)(self.message()).hex()


@dataclass(frozen=True)
class SignedCheckpoint:
    body: CheckpointBody
    hash: str
    signature: str  # hex

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self.body), "hash": self.hash, "signature": self.signature}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SignedCheckpoint:
        optional = ("access_size", "access_hash")  # absent from exports of checkpoints signed before 0014
        fields = [k for k in CheckpointBody.__dataclass_fields__ if k not in optional]
        values: dict[str, Any] = {k: d[k] for k in fields} | {k: d.get(k) for k in optional}
        body = CheckpointBody(**values)
        return cls(body, str(d["hash"]), str(d["signature"]))

    def signature_ok(self, key: PublicKey) -> bool:
        try:
            return (self.body.key_id == key.fingerprint and self.body.sig_alg == key.algorithm
                    and key.verify(self.body.message(), bytes.fromhex(self.signature)))
        except ValueError:
            return False


_STORED = ("SELECT tree_size, last_event_id, root, created_at, prev_hash, hash_alg, sig_alg, key_id, access_size, "
           "access_hash, hash, signature FROM audit_checkpoint ORDER BY id")


def stored(session: Session) -> list[SignedCheckpoint]:
    """The stored checkpoints, read raw: a damaged value makes its checkpoint fail to verify, never
    the read fail."""
    from engine.audit.chain import iso_utc

    out = []
    for size, last, root, at, prev, hash_alg, sig_alg, key_id, access_size, access_hash, digest, signature in \
            session.connection().exec_driver_sql(_STORED):
        try:
            at = iso_utc(at)
        except (TypeError, ValueError):
            at = str(at)
        out.append(SignedCheckpoint(CheckpointBody(size, last, root, at, prev, hash_alg, sig_alg, key_id,
                                                   access_size, access_hash), str(digest), str(signature)))
    return out


def _latest(session: Session) -> Checkpoint | None:
    return session.scalars(select(Checkpoint).order_by(Checkpoint.id.desc()).limit(1)).first()


def _lock_log(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL lock_timeout = '10s'"))
        # One checkpoint writer at a time (the lock conflicts with itself), then the gap-free prefix.
        session.execute(text("LOCK TABLE audit_checkpoint IN SHARE ROW EXCLUSIVE MODE"))
        session.execute(text("LOCK TABLE event IN SHARE MODE"))
        # The access log's appenders hold this lock until they commit: its head read after it is final.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": access_log.LOCK_KEY})
    else:
        from engine.db import begin_immediate

        begin_immediate(session)


def pending_events(session: Session) -> tuple[int, datetime | None]:
    """(events and access-log entries not yet covered by a checkpoint, time of the latest
    checkpoint) — for ``due``."""
    latest = _latest(session)
    after = latest.last_event_id if latest else 0
    count = session.scalar(select(func.count(Event.id)).where(Event.id > after)) or 0
    count += max(0, access_log.head(session)[0] - ((latest.access_size or 0) if latest else 0))
    return count, (latest.created_at if latest else None)


def due(session: Session, now: datetime, every_events: int, every_minutes: float) -> bool:
    count, last_at = pending_events(session)
    if count == 0:
        return False
    return (count >= every_events or last_at is None
            or now - last_at >= timedelta(minutes=every_minutes))


def create(session: Session, key: SigningKey, hash_alg: str, now: datetime) -> SignedCheckpoint | None:
    """Sign a checkpoint over every committed event; None when no event came since the last one.
    Never commits (the caller's boundary does; the locks last until then)."""
    _lock_log(session)
    latest = _latest(session)
    digest = digest_function(hash_alg)
    if latest is not None and latest.hash_alg == hash_alg:
        builder = TreeBuilder.resume(digest, json.loads(latest.frontier))
        after = latest.last_event_id
    else:  # the first checkpoint, or the hash algorithm changed: hash the log from the start
        builder, after = TreeBuilder(digest), 0
    last_id = after
    for event_id, event_hash in raw_rows(session, f"SELECT id, hash FROM event WHERE id > {int(after)} ORDER BY id",
                                         10_000):
        builder.add(leaf_data(event_hash))
        last_id = event_id
    access_size, access_hash = access_log.head(session)
    if (latest is not None and last_id == latest.last_event_id and latest.hash_alg == hash_alg
            and latest.key_id == key.public.fingerprint and latest.access_size == access_size):
        return None  # nothing new (a changed algorithm or key does sign the same events anew)
    now = now.astimezone(UTC)
    body = CheckpointBody(builder.size, last_id, builder.root().hex(), now.isoformat(),
                          latest.hash if latest else GENESIS, hash_alg, key.algorithm.value, key.public.fingerprint,
                          access_size, access_hash)
    signed = SignedCheckpoint(body, body.digest(), key.sign(body.message()).hex())
    session.add(Checkpoint(tree_size=body.tree_size, last_event_id=body.last_event_id, root=body.root,
                           created_at=now, prev_hash=body.prev_hash, hash_alg=hash_alg, sig_alg=body.sig_alg,
                           key_id=body.key_id, signature=signed.signature, hash=signed.hash,
                           frontier=json.dumps(builder.frontier()), access_size=access_size,
                           access_hash=access_hash))
    session.flush()
    return signed


def leaf_data(event_hash: Any) -> bytes:
    """A leaf is the event's hash (which commits to its case, seq and content). A damaged value
    still gives a leaf — one that no longer matches the signed root."""
    try:
        return bytes.fromhex(event_hash)
    except (TypeError, ValueError):
        return str(event_hash).encode()


@dataclass(frozen=True)
class CheckpointPolicy:
    """When and how the scheduler signs checkpoints (from configuration)."""

    key: SigningKey
    hash_alg: str
    every_events: int
    every_minutes: float

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CheckpointPolicy:
        from engine.audit.signing import signing_key

        return cls(signing_key(config), config["AUDIT_HASH"], config["CHECKPOINT_EVERY_EVENTS"],
                   config["CHECKPOINT_EVERY_MINUTES"])


def create_if_due(factory: Any, policy: CheckpointPolicy, now: datetime) -> SignedCheckpoint | None:
    """The scheduler's step: a cheap check without locks, then a committed checkpoint if due."""
    from engine.db import transaction

    with factory() as session:
        if not due(session, now, policy.every_events, policy.every_minutes):
            return None
    with transaction(factory) as session:
        return create(session, policy.key, policy.hash_alg, now)


def export(checkpoints: list[SignedCheckpoint]) -> dict[str, Any]:
    """The document an outside party keeps. It names the signing keys by fingerprint but does not
    carry them: whoever verifies brings the public key they were given separately."""
    return {"format": EXPORT_FORMAT, "key_ids": sorted({str(c.body.key_id) for c in checkpoints}),
            "signature_algorithms": sorted({str(c.body.sig_alg) for c in checkpoints}),
            "hash_algorithms": sorted({str(c.body.hash_alg) for c in checkpoints}),
            "checkpoints": [c.as_dict() for c in checkpoints]}


def parse_export(doc: Any) -> list[SignedCheckpoint]:
    """Checkpoints from an export; ValueError when it is not one."""
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT or not isinstance(doc.get("checkpoints"), list):
        raise ValueError(f"not a citycase checkpoint export (format {EXPORT_FORMAT})")
    try:
        return [SignedCheckpoint.from_dict(d) for d in doc["checkpoints"]]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a checkpoint in the export is incomplete: {exc}") from exc


__all__ = ["CheckpointBody", "CheckpointPolicy", "SignedCheckpoint", "create", "create_if_due", "due", "export", "parse_export", "stored",
           "leaf_data", "pending_events"]

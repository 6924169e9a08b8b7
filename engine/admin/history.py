"""The admin history: who changed what on the administration pages, when, before and after.

One hash chain over the whole table: hash = sha256(prev_hash + canonical entry), like the
auditor access log (``engine.audit.access_log``). Entries are written in the caller's
transaction, so a change and its entry are committed together or not at all. Appends are
serialized by a transaction-scoped advisory lock on PostgreSQL; on SQLite by the single writer;
the unique ``seq`` refuses a fork in any case. The database refuses UPDATE and DELETE
(migration 0016); :func:`check_chain` finds a row edited or removed anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.admin.models import AdminEvent
from engine.errors import Forbidden
from engine.history import GENESIS, canonical_json
from engine.model import Actor, Role

_LOCK_KEY = 0x63697479_61646D  # "cityadm": serializes appends on PostgreSQL


class AdminKind(StrEnum):
    USER_CREATED = "user_created"
    USER_CHANGED = "user_changed"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    PASSWORD_RESET = "password_reset"
    SECOND_FACTOR_RESET = "second_factor_reset"
    DEPARTMENT_CREATED = "department_created"
    DEPARTMENT_CHANGED = "department_changed"
    GRID_IMPORTED = "grid_imported"
    CLASS_CREATED = "class_created"
    CLASS_CHANGED = "class_changed"
    COMPONENTS_IMPORTED = "components_imported"
    CALENDAR_DAY_SET = "calendar_day_set"
    CALENDAR_IMPORTED = "calendar_imported"


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def require_admin(actor: Actor) -> None:
    """Every admin command checks the role itself: pages check too, but the engine is the rule."""
    if actor.role != Role.ADMIN:
        raise Forbidden(f"{actor.username} is not an administrator")


def entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, kind: str, target: str,
               before_json: str, after_json: str) -> str:
    canonical = canonical_json({"seq": seq, "at": at.isoformat(), "actor": actor, "kind": kind,
                                "target": target, "before": before_json, "after": after_json})
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def record(session: Session, actor: Actor, at: datetime, kind: AdminKind, target: str,
           before: Any, after: Any) -> AdminEvent:
    """Append one entry in the caller's transaction (never commits)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = session.execute(select(AdminEvent.seq, AdminEvent.hash).order_by(AdminEvent.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    before_json, after_json = canonical_json(before), canonical_json(after)
    target = (target or "")[:100]
    row = AdminEvent(seq=seq, at=at, actor=actor.username, kind=str(kind), target=target, before=before_json,
                     after=after_json, prev_hash=prev,
                     hash=entry_hash(prev, seq, at, actor.username, str(kind), target, before_json, after_json))
    session.add(row)
    session.flush()
    return row


def entries(session: Session, *, target: str | None = None, before_seq: int | None = None,
            limit: int = 100) -> list[AdminEvent]:
    """Newest first; only one target's when given; keyset paging with ``before_seq``."""
    query = select(AdminEvent).order_by(AdminEvent.seq.desc()).limit(limit)
    if target:
        query = query.where(AdminEvent.target == target)
    if before_seq is not None:
        query = query.where(AdminEvent.seq < before_seq)
    return list(session.scalars(query))


def _walk(rows: Iterable[Any]) -> ChainBreak | None:
    prev, expected = GENESIS, 1
    for row in rows:
        if row.seq != expected:
            return ChainBreak(expected, f"entry {expected} is missing (next is {row.seq})")
        if row.prev_hash != prev:
            return ChainBreak(row.seq, "prev_hash does not match the previous entry")
        if entry_hash(prev, row.seq, row.at, row.actor, row.kind, row.target, row.before, row.after) != row.hash:
            return ChainBreak(row.seq, "hash does not match the entry's content")
        prev, expected = row.hash, expected + 1
    return None


def check_chain(session: Session) -> ChainBreak | None:
    """The first broken entry, or None when every entry chains to the one before."""
    cols = (AdminEvent.seq, AdminEvent.at, AdminEvent.actor, AdminEvent.kind, AdminEvent.target,
            AdminEvent.before, AdminEvent.after, AdminEvent.prev_hash, AdminEvent.hash)
    return _walk(session.execute(select(*cols).order_by(AdminEvent.seq).execution_options(yield_per=5000)))

"""The admin history: who changed what on the administration pages, when, before and after.

One hash chain over the whole table: hash = sha256(prev_hash + canonical entry), like the
auditor access log (``engine.audit.access_log``). Entries are written in the caller's
transaction, so a change and its entry are committed together or not at all. Appends are
serialized by a transaction-scoped advisory lock on PostgreSQL; on SQLite by the single writer;
the unique ``seq`` refuses a fork in any case. The database refuses UPDATE and DELETE
(migration 0011); :func:`check_chain` finds a row edited or removed anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.admin.models import AdminEvent
from engine.errors import Forbidden
from engine.history import ChainBreak, canonical_json
from engine.model import Actor, Role
from engine.table_chain import link_hash, next_link, walk

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


def require_admin(actor: Actor) -> None:
    """Every admin command checks the role itself: pages check too, but the engine is the rule."""
    if actor.role != Role.ADMIN:
        raise Forbidden(f"{actor.username} is not an administrator")


def _fields(seq: int, at: datetime, actor: str, kind: str, target: str, before_json: str,
            after_json: str) -> dict[str, Any]:
    return {"seq": seq, "at": at.isoformat(), "actor": actor, "kind": kind, "target": target,
            "before": before_json, "after": after_json}


def entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, kind: str, target: str,
               before_json: str, after_json: str) -> str:
    return link_hash(prev_hash, _fields(seq, at, actor, kind, target, before_json, after_json))


def record(session: Session, actor: Actor, at: datetime, kind: AdminKind, target: str,
           before: Any, after: Any) -> AdminEvent:
    """Append one entry in the caller's transaction (never commits)."""
    seq, prev = next_link(session, AdminEvent.seq, AdminEvent.hash, _LOCK_KEY)
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
    return walk(rows, lambda r: _fields(r.seq, r.at, r.actor, r.kind, r.target, r.before, r.after))


def check_chain(session: Session) -> ChainBreak | None:
    """The first broken entry, or None when every entry chains to the one before."""
    cols = (AdminEvent.seq, AdminEvent.at, AdminEvent.actor, AdminEvent.kind, AdminEvent.target,
            AdminEvent.before, AdminEvent.after, AdminEvent.prev_hash, AdminEvent.hash)
    return _walk(session.execute(select(*cols).order_by(AdminEvent.seq).execution_options(yield_per=5000)))

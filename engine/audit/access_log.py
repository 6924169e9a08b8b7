"""The auditor access log: who looked at what on the audit pages, append-only and hash-chained.

One chain over the whole table: hash = sha256(prev_hash + canonical entry), like the case
histories (``engine.history``). Entries are written in the caller's transaction (a page view
is logged only if the request commits). Appends are serialized so the chain never forks: a
transaction-scoped advisory lock on PostgreSQL; on SQLite the database's single writer does it,
and the unique ``seq`` refuses a fork in any case. The database refuses UPDATE and DELETE
(triggers of migration 0007, as for the history in 0004); :func:`check_chain` finds any row edited or removed anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.history import GENESIS, ChainBreak, canonical_json
from engine.models import AccessLogEntry
from engine.table_chain import link_hash, next_link, walk

LOCK_KEY = 0x63697479_6C6F67  # "citylog": the advisory lock that serializes appends on PostgreSQL


class AccessAction(StrEnum):
    INDEX = "index"  # the audit start page
    SEARCH = "search"  # a case search
    VIEW_CASE = "view_case"  # a case's replay page
    VERIFY = "verify"  # "verify this case" pressed
    EXPORT = "export"  # an event-log download
    VIEW_LOG = "view_log"  # this log itself


@dataclass(frozen=True)
class Accessor:
    username: str
    role: str


def _fields(seq: int, at: datetime, username: str, role: str, action: str, target: str,
            details_json: str) -> dict[str, Any]:
    return {"seq": seq, "at": at.isoformat(), "username": username, "role": role, "action": action,
            "target": target, "details": details_json}


def entry_hash(prev_hash: str, seq: int, at: datetime, username: str, role: str, action: str, target: str,
               details_json: str) -> str:
    return link_hash(prev_hash, _fields(seq, at, username, role, action, target, details_json))


def record(session: Session, who: Accessor, action: AccessAction, at: datetime, target: str = "",
           details: dict[str, Any] | None = None) -> AccessLogEntry:
    """Append one entry in the caller's transaction (never commits)."""
    seq, prev = next_link(session, AccessLogEntry.seq, AccessLogEntry.hash, LOCK_KEY)
    details_json = canonical_json(details or {})
    target = (target or "")[:100]
    row = AccessLogEntry(seq=seq, at=at, username=who.username, role=who.role, action=str(action), target=target,
                         details=details_json, prev_hash=prev,
                         hash=entry_hash(prev, seq, at, who.username, who.role, str(action), target, details_json))
    session.add(row)
    session.flush()
    return row


def head(session: Session) -> tuple[int, str]:
    """(entries, hash of the last one): what a signed checkpoint anchors; (0, GENESIS) when empty.
    Entries are numbered 1..n, so the highest seq is the count an intact log has."""
    last = session.execute(select(AccessLogEntry.seq, AccessLogEntry.hash)
                           .order_by(AccessLogEntry.seq.desc()).limit(1)).first()
    return (int(last.seq), str(last.hash)) if last else (0, GENESIS)


def hashes_at(session: Session, seqs: Iterable[int]) -> dict[int, str]:
    """The stored hash of each entry ``seq`` that still exists."""
    wanted = sorted({int(s) for s in seqs})
    if not wanted:
        return {}
    rows = session.execute(select(AccessLogEntry.seq, AccessLogEntry.hash).where(AccessLogEntry.seq.in_(wanted)))
    return {int(seq): str(digest) for seq, digest in rows}


def entries(session: Session, *, username: str | None = None, before_seq: int | None = None,
            limit: int = 100) -> list[AccessLogEntry]:
    """Newest first; only ``username``'s when given; keyset paging with ``before_seq``."""
    query = select(AccessLogEntry).order_by(AccessLogEntry.seq.desc()).limit(limit)
    if username is not None:
        query = query.where(AccessLogEntry.username == username)
    if before_seq is not None:
        query = query.where(AccessLogEntry.seq < before_seq)
    return list(session.scalars(query))


def _walk(rows: Iterable[Any]) -> ChainBreak | None:
    return walk(rows, lambda r: _fields(r.seq, r.at, r.username, r.role, r.action, r.target, r.details))


def check_chain(session: Session) -> ChainBreak | None:
    """The first broken entry of the whole log, or None when every entry chains to the one before."""
    cols = (AccessLogEntry.seq, AccessLogEntry.at, AccessLogEntry.username, AccessLogEntry.role,
            AccessLogEntry.action, AccessLogEntry.target, AccessLogEntry.details, AccessLogEntry.prev_hash,
            AccessLogEntry.hash)
    try:
        return _walk(session.execute(select(*cols).order_by(AccessLogEntry.seq)
                                     .execution_options(yield_per=5000)))
    except (ValueError, TypeError) as exc:  # an unparsable stored value is itself a break
        return ChainBreak(0, f"an entry cannot be read: {exc}")


__all__ = ["AccessAction", "Accessor", "ChainBreak", "record", "entries", "check_chain", "entry_hash", "head",
           "hashes_at", "LOCK_KEY"]

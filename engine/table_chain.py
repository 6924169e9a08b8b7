"""One hash chain over a whole append-only table: the auditor access log and the admin history.

hash = sha256(prev_hash + canonical entry), the entry's fields including its ``seq``, as the case
histories do per case (``engine.history``). Appends are serialized so the chain never forks: a
transaction-scoped advisory lock on PostgreSQL (one key per table); on SQLite the database's single
writer does it; the unique ``seq`` refuses a fork in any case. :func:`walk` finds the first entry
that is missing, relinked or edited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine.history import GENESIS, ChainBreak, canonical_json


def link_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode()).hexdigest()


def next_link(session: Session, seq: InstrumentedAttribute[int], hash_: InstrumentedAttribute[str],
              lock_key: int) -> tuple[int, str]:
    """(seq, prev_hash) of the entry about to be appended, holding the table's append lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
    last = session.execute(select(seq, hash_).order_by(seq.desc()).limit(1)).first()
    return (last[0] + 1, last[1]) if last else (1, GENESIS)


def walk(rows: Iterable[Any], fields_of: Callable[[Any], dict[str, Any]]) -> ChainBreak | None:
    """The first break of a chain read in ``seq`` order (rows have seq, prev_hash, hash), or None."""
    prev, expected = GENESIS, 1
    for row in rows:
        if row.seq != expected:
            return ChainBreak(expected, f"entry {expected} is missing (next is {row.seq})")
        if row.prev_hash != prev:
            return ChainBreak(row.seq, "prev_hash does not match the previous entry")
        if link_hash(prev, fields_of(row)) != row.hash:
            return ChainBreak(row.seq, "hash does not match the entry's content")
        prev, expected = row.hash, expected + 1
    return None

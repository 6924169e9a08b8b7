"""Append-only case history with a per-case hash chain.

hash = sha256(prev_hash + canonical event), canonical = sorted-key compact JSON of the event's
fields. Rows are only ever inserted; verify() recomputes the chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

GENESIS = "0" * 64


def canonical_json(data: Any) -> str:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def event_hash(prev_hash: str, case_number: str, seq: int, at: datetime, actor: str, kind: str,
               task_id: str | None, task_spec: str | None, data_json: str, spec_hash: str) -> str:
    canonical = canonical_json({
        "case": case_number, "seq": seq, "at": at.isoformat(), "actor": actor, "kind": kind,
        "task_id": task_id, "task_spec": task_spec, "data": data_json, "spec_hash": spec_hash,
    })
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def check_chain(case_number: str, rows: list[Any]) -> ChainBreak | None:
    """Rows ordered by seq with attributes seq, at, actor, kind, task_id, task_spec, data, spec_hash,
    prev_hash, hash. Returns the first break or None."""
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row.seq != expected_seq:
            return ChainBreak(row.seq, f"sequence gap: expected {expected_seq}")
        if row.prev_hash != prev:
            return ChainBreak(row.seq, "prev_hash does not match the previous event")
        h = event_hash(prev, case_number, row.seq, row.at, row.actor, row.kind, row.task_id, row.task_spec,
                       row.data, row.spec_hash)
        if h != row.hash:
            return ChainBreak(row.seq, "hash does not match the event's content")
        prev = row.hash
    return None

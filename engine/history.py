"""Append-only case history with a per-case hash chain.

hash = H(prev_hash + canonical event), canonical = sorted-key compact JSON of the event's
fields, H the city's configured hash (``AUDIT_HASH``: sha256, or sm3 for 国密). Each event
records the algorithm it was hashed with (``event.hash_alg``), so a city that switches keeps
its older chains verifiable and a case may continue under the new algorithm mid-history.
Rows are only ever inserted; verify() recomputes the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

GENESIS = "0" * 64
SHA256 = "sha256"  # the algorithm of every event before event.hash_alg existed (migration 0014)


class _GmsslSm3:
    """SM3 from the gmssl package, for an OpenSSL built without it (hashlib's names it when present)."""

    def __init__(self, data: bytes) -> None:
        from gmssl import func, sm3

        self._hex = sm3.sm3_hash(func.bytes_to_list(data))

    def hexdigest(self) -> str:
        return str(self._hex)


def _sm3(data: bytes) -> Any:
    return hashlib.new("sm3", data)


# algorithm name (engine.audit.signing.HashAlgorithm's values) -> constructor of a hash object
CHAIN_HASHES: dict[str, Callable[[bytes], Any]] = {
    SHA256: hashlib.sha256,
    "sm3": _sm3 if "sm3" in hashlib.algorithms_available else _GmsslSm3,
}


def chain_hexdigest(algorithm: str, data: bytes) -> str:
    """H(data) as hex; KeyError for an algorithm the chain does not know."""
    return str(CHAIN_HASHES[algorithm](data).hexdigest())


def canonical_json(data: Any) -> str:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def event_hash(prev_hash: str, case_number: str, seq: int, at: datetime, actor: str, kind: str,
               task_id: str | None, task_spec: str | None, data_json: str, spec_hash: str,
               algorithm: str = SHA256) -> str:
    canonical = canonical_json({
        "case": case_number, "seq": seq, "at": at.isoformat(), "actor": actor, "kind": kind,
        "task_id": task_id, "task_spec": task_spec, "data": data_json, "spec_hash": spec_hash,
    })
    return chain_hexdigest(algorithm, (prev_hash + canonical).encode())


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def check_chain(case_number: str, rows: list[Any]) -> ChainBreak | None:
    """Rows ordered by seq with attributes seq, at, actor, kind, task_id, task_spec, data, spec_hash,
    prev_hash, hash (and hash_alg, else sha256). Returns the first break or None."""
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row.seq != expected_seq:
            return ChainBreak(row.seq, f"sequence gap: expected {expected_seq}")
        if row.prev_hash != prev:
            return ChainBreak(row.seq, "prev_hash does not match the previous event")
        h = event_hash(prev, case_number, row.seq, row.at, row.actor, row.kind, row.task_id, row.task_spec,
                       row.data, row.spec_hash, getattr(row, "hash_alg", None) or SHA256)
        if h != row.hash:
            return ChainBreak(row.seq, "hash does not match the event's content")
        prev = row.hash
    return None


# --- the one append ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainHead:
    """Where a case's chain ends: what its next event links to."""

    case_id: int
    number: str
    last_seq: int
    last_hash: str
    spec_hash: str


@dataclass(frozen=True)
class NewEvent:
    seq: int
    hash: str
    row: dict[str, Any]  # the INSERT_EVENT parameters (``at`` as the writer stores it)


# Moves the chain head of an event that leaves the workflow alone (claim, release, rating…);
# checked against last_seq so two concurrent appends cannot both link to the same event.
ADVANCE_HEAD = "UPDATE case_record SET last_seq = :seq, last_hash = :hash WHERE id = :id AND last_seq = :last_seq"


def append_event(writer: Any, head: ChainHead, at: datetime, actor: str, kind: str, task_id: str | None,
                 task_spec: str | None, data: dict[str, Any], *, advance: str = ADVANCE_HEAD,
                 params: dict[str, Any] | None = None, then: list[tuple[str, Any]] | None = None,
                 algorithm: str = SHA256) -> NewEvent:
    """Append one event to a case's chain: the only place events are written.

    ``advance`` is the case UPDATE that moves the head (given :seq, :hash, :id, :last_seq and
    ``params``); it must hit exactly one row, else someone else changed the case (Conflict).
    The event row and ``then`` (the command's other writes) follow in one batch. ``algorithm`` is
    the city's configured chain hash (``EngineContext.hash_alg``), recorded with the event.
    ``writer`` is an ``engine.fastsql.Writer``: fixed SQL, the engine's hot path."""
    from engine.errors import Conflict
    from engine.fastsql import INSERT_EVENT

    seq = head.last_seq + 1
    data_json = canonical_json(data)
    h = event_hash(head.last_hash, head.number, seq, at, actor, kind, task_id, task_spec, data_json, head.spec_hash,
                   algorithm)
    if writer.run(advance, {**(params or {}), "seq": seq, "hash": h, "id": head.case_id,
                            "last_seq": head.last_seq}) != 1:
        raise Conflict("the case was changed by someone else; reload and try again")
    row = {"case_id": head.case_id, "seq": seq, "at": writer.time(at), "actor": actor, "kind": kind,
           "task_id": task_id, "task_spec": task_spec, "data": data_json, "spec_hash": head.spec_hash,
           "prev_hash": head.last_hash, "hash": h, "hash_alg": algorithm}
    writer.batch([(INSERT_EVENT, row), *(then or [])])
    return NewEvent(seq, h, row)

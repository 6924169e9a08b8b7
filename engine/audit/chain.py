"""The hash chain of one case, checked over raw event rows without ever raising on their content.

Rows come straight from the driver (SQLite gives text where PostgreSQL gives datetimes; an
attacker with database access can put anything anywhere), as tuples in ``EVENT_COLUMNS`` order,
sorted by seq. The fast path recomputes each hash; only a row that fails goes to ``_classify``,
which works out what kind of damage explains it (edited, reordered, moved from another case,
missing, unreadable) so the finding names the case, the seq and what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from engine.audit.problems import Problem, ProblemKind
from engine.history import CHAIN_HASHES, GENESIS, SHA256

EVENT_COLUMNS = "seq, at, actor, kind, task_id, task_spec, data, spec_hash, prev_hash, hash, hash_alg"
SEQ, AT, ACTOR, KIND, TASK_ID, TASK_SPEC, DATA, SPEC_HASH, PREV_HASH, HASH, HASH_ALG = range(11)

# Given (prev_hash, hash) of a row that is not this case's, the numbers of cases it may belong to.
Locator = Callable[[Any, Any], list[str]]


@dataclass(frozen=True)
class CaseHead:
    """What the case row says about its history."""

    id: int
    number: str
    last_seq: Any
    last_hash: Any


def iso_utc(value: Any) -> str:
    """An event time as ``history.event_hash`` saw it. Raises ValueError/TypeError on garbage."""
    if isinstance(value, str):  # SQLite keeps the text it was given
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    return value.replace(tzinfo=UTC).isoformat()


def row_hash(number: str, row: Sequence[Any], prev: str, seq: Any = None) -> str:
    """The hash the row would have if recorded as ``seq`` of case ``number`` after ``prev``."""
    canonical = orjson.dumps({
        "case": number, "seq": row[SEQ] if seq is None else seq, "at": iso_utc(row[AT]), "actor": row[ACTOR],
        "kind": row[KIND], "task_id": row[TASK_ID], "task_spec": row[TASK_SPEC], "data": row[DATA],
        "spec_hash": row[SPEC_HASH]}, option=orjson.OPT_SORT_KEYS)
    return str(CHAIN_HASHES[_algorithm(row)](prev.encode() + canonical).hexdigest())


def _algorithm(row: Sequence[Any]) -> Any:
    """The row's chain hash; rows read without the column (older callers) are SHA-256."""
    return row[HASH_ALG] if len(row) > HASH_ALG else SHA256


def _fast_iso(at: Any) -> str:
    """``iso_utc`` without parsing SQLite's fixed "YYYY-MM-DD HH:MM:SS.ffffff" text. Text that only looks
    like a time gives a string no genuine event hashed, so the row fails and ``_classify`` parses it."""
    if isinstance(at, str) and len(at) == 26 and at[10] == " " and at[19] == ".":
        return f"{at[:10]}T{at[11:19]}{'' if at[20:] == '000000' else at[19:]}+00:00"
    return (datetime.fromisoformat(at) if isinstance(at, str) else at).replace(tzinfo=UTC).isoformat()


def check_case(head: CaseHead, rows: Sequence[Sequence[Any]], locate: Locator | None = None) -> list[Problem]:
    """The first break in the case's chain, or a head that disagrees with it; [] when intact."""
    prev, expected, number = GENESIS, 1, head.number
    hashes, dumps, fast_iso = CHAIN_HASHES, orjson.dumps, _fast_iso
    for seq, at, actor, kind, task_id, task_spec, data, spec_hash, prev_hash, digest, alg, *_ in rows:
        try:
            # The fast path: row_hash inlined (it runs for every event). The keys are written in
            # sorted order, so orjson gives the sorted-key canonical form without sorting.
            if at.__class__ is str and len(at) == 26 and at[10] == " " and at[19] == ".":  # SQLite's text
                at_iso = f"{at[:10]}T{at[11:19]}{'' if at[20:] == '000000' else at[19:]}+00:00"
            else:
                at_iso = fast_iso(at)
            canonical = dumps({"actor": actor, "at": at_iso, "case": number, "data": data, "kind": kind,
                               "seq": seq, "spec_hash": spec_hash, "task_id": task_id, "task_spec": task_spec})
            ok = (seq == expected and prev_hash == prev
                  and hashes[alg](prev.encode() + canonical).hexdigest() == digest)
        except (TypeError, ValueError, AttributeError, KeyError, orjson.JSONEncodeError):
            ok = False
        if not ok:
            return [_classify(head, rows, rows[expected - 1], expected, prev, locate)]
        prev, expected = digest, expected + 1
    return _check_head(head, expected - 1, prev)


def _check_head(head: CaseHead, count: int, last: str) -> list[Problem]:
    def problem(kind: ProblemKind, detail: str) -> list[Problem]:
        return [Problem(kind, detail, head.number, head.id)]

    if not isinstance(head.last_seq, int):
        return problem(ProblemKind.UNREADABLE, f"the case row's last_seq is not a number: {head.last_seq!r}")
    if count == 0 and head.last_seq > 0:
        return problem(ProblemKind.HISTORY_MISSING, f"all {head.last_seq} events of the case are missing")
    if head.last_seq > count:
        return problem(ProblemKind.TRUNCATED, f"events {count + 1}–{head.last_seq} are missing (the case row "
                                              f"records {head.last_seq} events, the history ends at {count})")
    if head.last_seq != count or head.last_hash != last:
        return problem(ProblemKind.HEAD, f"the case row's last_seq/last_hash ({head.last_seq}) do not match "
                                         f"its history ({count} events)")
    return []


def _classify(head: CaseHead, rows: Sequence[Sequence[Any]], row: Sequence[Any], expected: int, prev: str,
              locate: Locator | None) -> Problem:
    """Why ``row`` (found where event ``expected`` should be) breaks the chain."""
    seq = row[SEQ]

    def found(kind: ProblemKind, detail: str, at_seq: Any = None) -> Problem:
        return Problem(kind, detail, head.number, head.id, at_seq if at_seq is not None else expected)

    if not isinstance(seq, int):
        return found(ProblemKind.UNREADABLE, f"the seq column is not a number: {seq!r}")
    try:
        iso_utc(row[AT])
    except (TypeError, ValueError):
        return found(ProblemKind.UNREADABLE, f"the time (at) is not a timestamp: {row[AT]!r}", seq)
    try:
        orjson.loads(row[DATA])
    except (TypeError, orjson.JSONDecodeError):
        return found(ProblemKind.UNREADABLE, f"the data column is not JSON: {str(row[DATA])[:60]!r}", seq)
    if not all(isinstance(row[i], str) for i in (PREV_HASH, HASH, SPEC_HASH, ACTOR, KIND)):
        return found(ProblemKind.UNREADABLE, "a text column (actor, kind, hashes) holds a non-text value", seq)
    if _algorithm(row) not in CHAIN_HASHES:
        return found(ProblemKind.UNREADABLE, f"the hash_alg column names no known hash: {_algorithm(row)!r} "
                                             f"(known: {', '.join(CHAIN_HASHES)})", seq)
    if seq > expected:
        missing = f"event {expected} is" if seq == expected + 1 else f"events {expected}–{seq - 1} are"
        return found(ProblemKind.MISSING_EVENT, f"{missing} missing from the history")
    if row_hash(head.number, row, row[PREV_HASH]) == row[HASH]:
        # The row is intact but does not follow its predecessor.
        if any(r[HASH] == row[PREV_HASH] for r in rows):
            return found(ProblemKind.REORDERED, "the events are out of order: this event was recorded after "
                                                "another one that now has a later seq", seq)
        return found(ProblemKind.PREV_HASH, "the event does not follow the previous event (an event before "
                                            "it was replaced)", seq)
    return _explain_mismatch(head, rows, row, prev, locate, found)


def _explain_mismatch(head: CaseHead, rows: Sequence[Sequence[Any]], row: Sequence[Any], prev: str,
                      locate: Locator | None, found: Callable[..., Problem]) -> Problem:
    """The row's content does not give its hash with this case's number and its own seq."""
    seq, claimed_prev = row[SEQ], row[PREV_HASH]
    for other in range(1, len(rows) + 2):
        if other != seq and row_hash(head.number, row, claimed_prev, other) == row[HASH]:
            return found(ProblemKind.REORDERED, f"the event stored as seq {seq} was recorded as seq {other}", seq)
    for number in (locate(claimed_prev, row[HASH]) if locate else []):
        if number != head.number and row_hash(number, row, claimed_prev) == row[HASH]:
            return found(ProblemKind.MOVED, f"the event stored here as seq {seq} was recorded for case {number}",
                         seq)
    if claimed_prev != prev and row_hash(head.number, row, prev) == row[HASH]:
        return found(ProblemKind.PREV_HASH, "the prev_hash column was changed", seq)
    return found(ProblemKind.EDITED, "the event's content no longer matches its hash (a column was changed)", seq)


__all__ = ["CaseHead", "EVENT_COLUMNS", "Locator", "check_case", "iso_utc", "row_hash"]

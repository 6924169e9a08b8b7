"""Deterministic task ids per case.

SpiffWorkflow names tasks with random uuid4 values. citycase derives them from the case's
seed and a counter kept in the case state, so replaying the recorded commands yields the
very same ids and a byte-identical state (decided once; see tests/engine/test_replay.py).
"""

from __future__ import annotations

import contextvars
import hashlib
import uuid

from engine.scoped import scoped


class IdSequence:
    def __init__(self, seed: str, counter: int = 0) -> None:
        self.seed = seed
        self.counter = counter

    def next(self) -> uuid.UUID:
        self.counter += 1
        digest = hashlib.blake2b(f"{self.seed}:{self.counter}".encode(), digest_size=16).digest()
        return uuid.UUID(bytes=digest, version=4)


_current: contextvars.ContextVar[IdSequence | None] = contextvars.ContextVar("citycase_ids", default=None)


def next_task_id() -> uuid.UUID | None:
    seq = _current.get()
    return seq.next() if seq is not None else None


def using_ids(seq: IdSequence):
    return scoped(_current, seq)

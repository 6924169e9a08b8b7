"""Make SpiffWorkflow read citycase's injected clock and id source.

SpiffWorkflow compares timers with ``datetime.now()`` inside its timer module, stamps tasks
with ``time.time()`` and names them with ``uuid4()``. For replay to reproduce a case's state
exactly and for the simulator to move time, all three must come from the engine:
* ``datetime`` in the timer module becomes a subclass whose ``now()`` reads ``current_clock()``;
* ``time`` in the task module becomes a shim whose ``time()`` reads the same clock;
* ``uuid4`` in the task module draws from the current case's deterministic id sequence
  (``engine.ids``) while a command runs, and falls back to random ids otherwise.
Applied once, on import of ``engine.runtime``.
"""

from __future__ import annotations

import uuid
from datetime import datetime as _datetime

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer
import SpiffWorkflow.task as _task

from engine.clock import current_clock
from engine.ids import next_task_id


class ClockedDatetime(_datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        now = current_clock().now()
        return now.astimezone(tz) if tz is not None else now.astimezone().replace(tzinfo=None)


class _ClockedTime:
    @staticmethod
    def time() -> float:
        return current_clock().now().timestamp()


def _task_uuid() -> uuid.UUID:
    return next_task_id() or uuid.uuid4()


_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _timer.datetime = ClockedDatetime
    _task.time = _ClockedTime
    _task.uuid4 = _task_uuid
    _applied = True

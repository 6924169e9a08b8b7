"""Replay: re-run a case from its start event to the state its history implies.

Each recorded state-changing command (start, complete, timer, message) is applied at its
recorded instant on a replay clock, against the case's recorded definition version, with the
recorded service results fed back — through the same ``step_workflow`` the commands use. Task
ids are deterministic per case (engine.ids), so the replayed state must equal the stored one.
Besides the state, replay derives what the case row says about status, outcome, department and
closing time, the way the commands derive it after each step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine import definitions
from engine.audit.chain import AT, DATA, KIND, TASK_ID
from engine.clock import ManualClock, using_clock
from engine.commands.snapshot import case_status, snapshot
from engine.commands.steps import (
    apply_complete,
    apply_correction,
    apply_merge,
    apply_message,
    apply_reopen,
    apply_start,
    apply_timers,
    step_workflow,
)
from engine.ids import IdSequence, using_ids
from engine.model import OPEN_STATUSES, EventKind
from engine.servicelog import ServiceLog
from engine.services import SCRIPT_ENGINE
from engine.state import dump_state
from handlers.context import ServiceContext


class _NoDeadlines:
    """Replay never computes deadlines: their recorded results are fed back."""

    def __getattr__(self, name: str):
        raise RuntimeError("replay diverged: a deadline was computed instead of replayed")


@dataclass(frozen=True)
class Replayed:
    """The stored state and the case-row columns the history implies."""

    state: bytes
    status: str
    outcome: str | None
    department: str | None
    closed_at: datetime | None
    updated_at: datetime


def _when(value: Any) -> datetime:
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def _step(kind: str, data: dict[str, Any], task_id: str | None) -> Callable[[BpmnWorkflow], Any] | None:
    if kind == EventKind.START:
        return lambda w: apply_start(w, data["initial"])
    if kind == EventKind.COMPLETE:
        return lambda w: apply_complete(w, task_id, data["form"])  # type: ignore[arg-type]
    if kind == EventKind.TIMER:
        return apply_timers
    if kind == EventKind.MESSAGE:
        return lambda w: apply_message(w, data["message"], data["payload"])
    if kind == EventKind.CORRECTION:
        return lambda w: apply_correction(w, data.get("workflow") or {})
    if kind == EventKind.MERGE:
        return lambda w: apply_merge(w, data["original"])
    if kind == EventKind.REOPEN:
        return lambda w: apply_reopen(w, data.get("workflow") or {})
    return None  # claim, release, rating…: no workflow change


def replay(definition: definitions.LoadedDefinition, number: str, rows: Iterable[Sequence[Any]],
           session: Any = None) -> Replayed:
    """Replay event rows (``chain.EVENT_COLUMNS`` order); raises on a history that cannot run.

    ``definition`` is the version the case started on (``start_definition_id``); a migration
    event re-binds the workflow to the version it names, loaded through ``session``, exactly as
    the migration did (engine.designer.migration)."""
    rows = list(rows)
    if not rows or rows[0][KIND] != EventKind.START:
        raise ValueError("history does not begin with a start event")
    clock = ManualClock(_when(rows[0][AT]))
    ids = IdSequence(number)
    service_ctx = ServiceContext(_NoDeadlines())
    with using_clock(clock), using_ids(ids):
        wf = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=SCRIPT_ENGINE)
    department: str | None = None
    status, outcome, closed_at, updated_at = "open", None, None, clock.now()
    for row in rows:
        data = orjson.loads(row[DATA])
        if row[KIND] == EventKind.MIGRATION:
            from engine.designer.migration import replay_migration

            if session is None:
                raise ValueError("replaying a migrated case needs a session to load its versions")
            wf, definition = replay_migration(session, wf, ids.counter, definition, data)
            continue
        apply = _step(row[KIND], data, row[TASK_ID])
        if apply is None:
            continue
        clock.set(_when(row[AT]))
        step_workflow(wf, clock, ids, ServiceLog(data.get("services", [])), service_ctx, apply)
        snap = snapshot(wf)
        department = snap.data.get("department") or department
        before = status
        status, step_outcome = case_status(wf, definition, snap)
        updated_at = clock.now()
        if status in OPEN_STATUSES:  # as the command frame writes it: an open case has no outcome
            outcome, closed_at = None, None
        else:
            outcome = step_outcome or outcome
            if step_outcome and status != before:
                closed_at = updated_at
    return Replayed(dump_state(wf, ids.counter), str(status), outcome, department, closed_at, updated_at)


def start_definition_id(case_definition_id: int, rows: Iterable[Sequence[Any]]) -> int:
    """The version a case started on: the one its first migration left, or its current one."""
    for row in rows:
        if row[KIND] == EventKind.MIGRATION:
            return int(orjson.loads(row[DATA])["from_id"])
    return case_definition_id


def replay_state(definition: definitions.LoadedDefinition, number: str, rows: Iterable[Any],
                 session: Any = None) -> bytes:
    """The state the recorded events produce, serialized like a stored state."""
    return replay(definition, number, [_as_tuple(r) for r in rows], session).state


def _as_tuple(row: Any) -> Sequence[Any]:
    if hasattr(row, "_mapping"):
        m = row._mapping
        return tuple(m[c] for c in ("seq", "at", "actor", "kind", "task_id", "task_spec", "data", "spec_hash",
                                    "prev_hash", "hash"))
    return row


def canonical_state(blob: bytes) -> dict[str, Any]:
    """Parsed state with order-insensitive parts sorted (a task's deleted data keys): key order
    inside task data may differ between a workflow that lived in memory and one restored from
    storage; content may not."""
    state = orjson.loads(blob)

    def normalize(tasks: dict[str, Any]) -> None:
        for task in tasks.values():
            delta = task.get("delta")
            if delta and isinstance(delta.get("deletions"), list):
                delta["deletions"] = sorted(delta["deletions"])

    normalize(state.get("tasks", {}))
    for sub in (state.get("subprocesses") or {}).values():
        normalize(sub.get("tasks", {}))
    return state


__all__ = ["Replayed", "replay", "replay_state", "start_definition_id", "canonical_state"]

"""Auditing: the hash chain of every case, and replay of its recorded commands.

Replay re-runs a case from its start event, applying each recorded state-changing command
(start, complete, timer, message) at its recorded instant on a replay clock, against the
case's recorded definition version, with recorded service results fed back. Task ids are
deterministic per case (engine.ids), so the replayed state must equal the stored one. States
are compared as parsed JSON (a canonical form: key order inside task data may differ between
a workflow that lived in memory and one restored from storage; content may not).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import definitions
from engine.clock import ManualClock
from engine.history import GENESIS, check_chain
from engine.ids import IdSequence
from engine.models import Case, Event
from engine.runtime import _complete, _message, _start, step_workflow
from engine.servicelog import ServiceLog
from engine.services import SCRIPT_ENGINE
from engine.state import dump_state
from handlers.context import ServiceContext


@dataclass(frozen=True)
class Problem:
    case_id: int
    number: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "number": self.number, "reason": self.reason}


class _NoDeadlines:
    """Replay never computes deadlines: their recorded results are fed back."""

    def __getattr__(self, name: str):
        raise RuntimeError("replay diverged: a deadline was computed instead of replayed")


def _events(session: Session, case_id: int) -> list[Any]:
    return list(session.execute(
        select(Event.seq, Event.at, Event.actor, Event.kind, Event.task_id, Event.task_spec, Event.data,
               Event.spec_hash, Event.prev_hash, Event.hash)
        .where(Event.case_id == case_id).order_by(Event.seq)).all())


def replay_state(definition: definitions.LoadedDefinition, number: str, events: Iterable[Any]) -> bytes:
    """The state the recorded events produce, serialized like a stored state."""
    events = list(events)
    if not events or events[0].kind != "start":
        raise ValueError("history does not begin with a start event")
    clock = ManualClock(events[0].at)
    ids = IdSequence(number)
    service_ctx = ServiceContext(_NoDeadlines())  # type: ignore[arg-type]
    from engine.clock import using_clock
    from engine.ids import using_ids

    with using_clock(clock), using_ids(ids):
        wf = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=SCRIPT_ENGINE)
    for ev in events:
        data = orjson.loads(ev.data)
        apply: Callable[[BpmnWorkflow], Any]
        if ev.kind == "start":
            def apply(w, d=data):
                return _start(w, d["initial"])
        elif ev.kind == "complete":
            def apply(w, d=data, t=ev.task_id):
                return _complete(w, t, d["form"])
        elif ev.kind == "timer":
            def apply(w):
                return w.refresh_timers()
        elif ev.kind == "message":
            def apply(w, d=data):
                return _message(w, d["message"], d["payload"])
        else:
            continue  # claim, release, rating…: no workflow change
        clock.set(ev.at)
        step_workflow(wf, clock, ids, ServiceLog(data.get("services", [])), service_ctx, apply)
    return dump_state(wf, ids.counter)


def canonical_state(blob: bytes) -> dict[str, Any]:
    """Parsed state with order-insensitive parts sorted (a task's deleted data keys)."""
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


def verify_case(session: Session, case_row: Any, replay: bool = True) -> list[Problem]:
    problems: list[Problem] = []
    events = _events(session, case_row.id)
    broken = check_chain(case_row.number, events)
    if broken is not None:
        problems.append(Problem(case_row.id, case_row.number, f"hash chain broken at event {broken.seq}: "
                                                              f"{broken.reason}"))
        return problems
    if not events or events[-1].hash != case_row.last_hash or events[-1].seq != case_row.last_seq:
        problems.append(Problem(case_row.id, case_row.number, "the case's last hash does not match its history"))
        return problems
    if replay:
        try:
            definition = definitions.load(session, case_row.definition_id)
            replayed = replay_state(definition, case_row.number, events)
        except Exception as exc:  # a replay that cannot run is itself a finding
            problems.append(Problem(case_row.id, case_row.number, f"replay failed: {exc}"))
            return problems
        if canonical_state(replayed) != canonical_state(case_row.state):
            problems.append(Problem(case_row.id, case_row.number,
                                    "replaying the history does not reproduce the stored state"))
    return problems


def iter_cases(session: Session, *, batch: int = 500, case_ids: list[int] | None = None) -> Iterator[Any]:
    last = 0
    cols = (Case.id, Case.number, Case.definition_id, Case.state, Case.last_hash, Case.last_seq)
    while True:
        query = select(*cols).where(Case.id > last).order_by(Case.id).limit(batch)
        if case_ids is not None:
            query = query.where(Case.id.in_(case_ids))
        rows = session.execute(query).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify_all(session: Session, *, replay: bool = True, progress: Callable[[int, int], None] | None = None,
               case_ids: list[int] | None = None) -> tuple[int, list[Problem]]:
    from sqlalchemy import func

    total = session.scalar(select(func.count(Case.id))) or 0
    checked = 0
    problems: list[Problem] = []
    for row in iter_cases(session, case_ids=case_ids):
        problems.extend(verify_case(session, row, replay))
        checked += 1
        if progress and checked % 200 == 0:
            progress(checked, total)
    if progress:
        progress(checked, total)
    return checked, problems


_ALL_EVENTS = ("SELECT case_id, seq, at, actor, kind, task_id, task_spec, data, spec_hash, prev_hash, hash "
               "FROM event ORDER BY case_id, seq")


def _iso_utc(value: Any) -> str:
    """An event time as ``event_hash`` saw it: aware UTC ``isoformat()`` (raw SQLite text or a naive datetime)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC).isoformat()


def check_chains(session: Session, progress: Callable[[int], None] | None = None) -> tuple[int, list[Problem]]:
    """Hash chains only, streaming every event once in (case, seq) order — the fast audit.

    The same computation as ``history.check_chain``, inlined over raw driver rows: this is the
    audit that must keep up with millions of events."""
    cases = {r.id: r for r in session.execute(select(Case.id, Case.number, Case.last_hash, Case.last_seq))}
    problems: list[Problem] = []
    seen: set[int] = set()
    sha256, dumps, sort_keys = hashlib.sha256, orjson.dumps, orjson.OPT_SORT_KEYS
    current = case = None
    prev, expected, broken = GENESIS, 1, False

    def finish() -> None:
        if case is not None and not broken and prev != case.last_hash:
            problems.append(Problem(case.id, case.number, "the case's last hash does not match its history"))

    result = session.connection().exec_driver_sql(_ALL_EVENTS)
    for chunk in result.partitions(5000):
        for case_id, seq, at, actor, kind, task_id, task_spec, data, spec_hash, prev_hash, digest in chunk:
            if case_id != current:
                finish()
                current, case = case_id, cases.get(case_id)
                prev, expected, broken = GENESIS, 1, False
                seen.add(case_id)
            if broken or case is None:
                continue
            reason = None
            if seq != expected:
                reason = f"sequence gap: expected {expected}"
            elif prev_hash != prev:
                reason = "prev_hash does not match the previous event"
            else:
                canonical = dumps({"case": case.number, "seq": seq, "at": _iso_utc(at), "actor": actor,
                                   "kind": kind, "task_id": task_id, "task_spec": task_spec, "data": data,
                                   "spec_hash": spec_hash}, option=sort_keys)
                if sha256(prev.encode() + canonical).hexdigest() != digest:
                    reason = "hash does not match the event's content"
            if reason:
                broken = True
                problems.append(Problem(case.id, case.number, f"hash chain broken at event {seq}: {reason}"))
                continue
            prev, expected = digest, expected + 1
        if progress:
            progress(len(seen))
    finish()
    problems += [Problem(c.id, c.number, "the case's history is missing") for c in cases.values()
                 if c.last_seq > 0 and c.id not in seen]
    return len(cases), problems


__all__ = ["Problem", "replay_state", "verify_case", "verify_all", "check_chains"]

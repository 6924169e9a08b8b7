"""Step-by-step replay of one case for auditors: what the diagram showed after each event.

The same machinery as ``engine.audit.replay`` (replay clock at each recorded instant,
deterministic ids, recorded service results fed back, ``step_workflow``), but it stops after
every recorded event and notes which BPMN elements were completed, active or waiting, the
case data and the open user tasks with their deadlines (read with the commands' own
``snapshot``). Events that do not change workflow state (claim, release, rating…) repeat the
previous picture with their own who/when/hash. A replay that cannot go on (a damaged history)
keeps the steps up to there and says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import definitions
from engine.audit.replay import _NoDeadlines
from engine.audit.replay import _step as _workflow_change
from engine.clock import ManualClock, using_clock
from engine.commands.snapshot import snapshot
from engine.commands.steps import step_workflow
from engine.ids import IdSequence, using_ids
from engine.model import STATE_KINDS, EventKind
from engine.models import Case, Event
from engine.servicelog import ServiceLog
from engine.services import SCRIPT_ENGINE
from handlers.context import ServiceContext


class ElementState(StrEnum):
    COMPLETED = "completed"
    ACTIVE = "active"  # an open (READY) user task
    WAITING = "waiting"  # timers and message events that wait, (event) subprocesses that run


class ChangeKind(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True)
class DataChange:
    key: str
    kind: ChangeKind
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class OpenTask:
    """A READY user task at a step, with the deadline its boundary timers carried then."""

    spec_id: str
    name: str
    role: str
    warn_at: datetime | None
    due_at: datetime | None


@dataclass(frozen=True)
class ReplayStep:
    seq: int
    at: datetime
    actor: str
    kind: str
    task_spec: str | None
    task_name: str | None
    role: str | None  # the lane's role of the completed task
    form: dict[str, Any]  # what the person submitted (complete events)
    details: dict[str, Any]  # the rest of the event's data (message payload, fired timers, rating…)
    hash: str
    prev_hash: str
    elements: dict[str, ElementState]  # bpmn id -> state after this event
    data: dict[str, Any]  # case data after this event
    changes: list[DataChange]  # against the step before
    open_tasks: list[OpenTask]
    timers: list[tuple[str, datetime]] = field(default_factory=list)  # waiting timers: (bpmn id, due)


@dataclass(frozen=True)
class Replay:
    number: str
    definition_id: int
    steps: list[ReplayStep]
    error: str | None = None  # why the replay stopped before the last event, if it did


@dataclass
class _Picture:
    elements: dict[str, ElementState]
    data: dict[str, Any]
    open_tasks: list[OpenTask]
    timers: list[tuple[str, datetime]]


_RANK = {ElementState.COMPLETED: 0, ElementState.WAITING: 1, ElementState.ACTIVE: 2}


def _element_state(task: Any) -> ElementState | None:
    state, spec = task.state, task.task_spec
    if state == TaskState.COMPLETED:
        return ElementState.COMPLETED
    if state == TaskState.READY:
        return ElementState.ACTIVE
    if state == TaskState.STARTED:
        return ElementState.WAITING  # a (event) subprocess: what happens is marked inside it
    if state == TaskState.WAITING and getattr(spec, "event_definition", None) is not None:
        return ElementState.WAITING
    return None


def _picture(wf: BpmnWorkflow, definition: definitions.LoadedDefinition) -> _Picture:
    """Element states, current data, open tasks and waiting timers of a workflow."""
    elements: dict[str, ElementState] = {}
    tasks = list(wf.tasks.values())
    for sub in wf.subprocesses.values():
        tasks.extend(sub.tasks.values())
    for task in tasks:
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not isinstance(bpmn_id, str):
            continue  # engine-internal tasks (start, end, joins of boundary events) are not drawn
        found = _element_state(task)
        # a task that ran before and is open again (rework) shows as open
        if found is not None and _RANK[found] >= _RANK[elements.get(bpmn_id, found)]:
            elements[bpmn_id] = found
    snap = snapshot(wf)  # the commands' own view: open user tasks, timers, the case's data
    timers = {name: due for name, due in snap.timers.values()}
    open_tasks = []
    for task in sorted(snap.ready.values(), key=lambda t: t.task_spec.bpmn_id):
        spec_id = task.task_spec.bpmn_id
        info = definition.user_tasks.get(spec_id)
        open_tasks.append(OpenTask(spec_id, info.name if info else spec_id, info.role if info else "",
                                   timers.get(f"{spec_id}_warning"), timers.get(f"{spec_id}_overdue")))
    return _Picture(elements, _plain(snap.data), open_tasks, sorted(timers.items()))


def _plain(data: Any) -> dict[str, Any]:
    """A JSON-safe deep copy (the workflow keeps mutating its own dicts)."""
    return orjson.loads(orjson.dumps(dict(data), default=str))


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[DataChange]:
    """Added, changed and removed top-level keys, in key order."""
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            changes.append(DataChange(key, ChangeKind.ADDED, None, after[key]))
        elif key not in after:
            changes.append(DataChange(key, ChangeKind.REMOVED, before[key], None))
        elif before[key] != after[key]:
            changes.append(DataChange(key, ChangeKind.CHANGED, before[key], after[key]))
    return changes


def _events(session: Session, case_id: int) -> list[Any]:
    return list(session.execute(
        select(Event.seq, Event.at, Event.actor, Event.kind, Event.task_id, Event.task_spec, Event.data,
               Event.prev_hash, Event.hash).where(Event.case_id == case_id).order_by(Event.seq)).all())


def _pictures(definition: definitions.LoadedDefinition, number: str,
              events: list[Any]) -> Iterator[tuple[Any, dict[str, Any], _Picture]]:
    """(event, its parsed data, the picture after it) for each event, replaying state events."""
    clock = ManualClock(events[0].at)
    ids = IdSequence(number)
    service_ctx = ServiceContext(_NoDeadlines())
    with using_clock(clock), using_ids(ids):
        wf = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=SCRIPT_ENGINE)
    picture = _Picture({}, {}, [], [])
    for ev in events:
        data = orjson.loads(ev.data)
        apply = _workflow_change(ev.kind, data, ev.task_id) if ev.kind in STATE_KINDS else None
        if apply is not None:
            clock.set(ev.at)
            step_workflow(wf, clock, ids, ServiceLog(data.get("services", [])), service_ctx, apply)
            picture = _picture(wf, definition)
        yield ev, data, picture


def _replay_step(ev: Any, data: dict[str, Any], picture: _Picture, before: dict[str, Any],
          definition: definitions.LoadedDefinition) -> ReplayStep:
    info = definition.user_tasks.get(ev.task_spec or "")
    details = {k: v for k, v in data.items() if k not in ("form", "services", "outbox")}
    return ReplayStep(
        seq=ev.seq, at=ev.at, actor=ev.actor, kind=ev.kind, task_spec=ev.task_spec,
        task_name=info.name if info else ev.task_spec, role=info.role if info else None,
        form=data.get("form") or {}, details=details, hash=ev.hash, prev_hash=ev.prev_hash,
        elements=picture.elements, data=picture.data, changes=diff(before, picture.data),
        open_tasks=picture.open_tasks, timers=picture.timers)


def replay_steps(session: Session, case: Case) -> Replay:
    """Every recorded event of ``case`` with the picture after it, on the case's own definition."""
    definition = definitions.load(session, case.definition_id)
    steps: list[ReplayStep] = []
    try:
        events = _events(session, case.id)
        if not events or events[0].kind != EventKind.START:
            return Replay(case.number, case.definition_id, [], "history does not begin with a start event")
        before: dict[str, Any] = {}
        for ev, data, picture in _pictures(definition, case.number, events):
            steps.append(_replay_step(ev, data, picture, before, definition))
            before = picture.data
    except Exception as exc:  # a damaged history is a finding for the auditor, not a crash
        return Replay(case.number, case.definition_id, steps, f"replay stopped after {len(steps)} steps: {exc}")
    return Replay(case.number, case.definition_id, steps)


def definition_xml(definition: definitions.LoadedDefinition) -> str:
    """The BPMN source of a deployed version (the file that holds its executable process)."""
    bpmn = {name: text for name, text in definition.files.items() if name.endswith(".bpmn")}
    for name in sorted(bpmn):
        if f'id="{definition.process_id}"' in bpmn[name]:
            return bpmn[name]
    return next(iter(bpmn.values()), "")


__all__ = ["ElementState", "ChangeKind", "DataChange", "OpenTask", "ReplayStep", "Replay", "replay_steps",
           "definition_xml", "diff"]

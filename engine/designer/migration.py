"""Moving running cases to another version of their process.

citycase stores a case's workflow without its spec (engine/state.py) and SpiffWorkflow refers
to a task's spec by name (the BPMN id). Moving a case therefore means: check that every task
that happened or is under way (completed, ready, waiting, future…) has an element of the same
type, in the same lane, reached from the same predecessor, in the new version; drop predicted
(LIKELY/MAYBE) branches whose element is gone (SpiffWorkflow predicts them again as the case
moves on); and load the same state under the new spec. Task ids, so claims, inbox rows,
deadline rows and history references, stay as they are — unlike SpiffWorkflow's own
``migrate_workflow``, which resets READY and WAITING tasks under new ids.

Each move is one history event (kind ``migration``) carrying both versions' hashes and ids;
replay performs the same re-binding at that event (:func:`rebind`), so verify still reproduces
a migrated case. The functions take a session and never commit: the CLI and the pages commit
each case in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

import orjson
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine import definitions
from engine.db import transaction
from engine.errors import CityCaseError, Conflict, NotFound, ValidationError
from engine.history import SHA256, canonical_json, event_hash
from engine.model import OPEN_STATUSES, EventKind
from engine.models import Case, DefinitionVersion, Event, TaskRow
from engine.services import SCRIPT_ENGINE
from engine.state import dump_state, load_state

_PREDICTED = TaskState.LIKELY | TaskState.MAYBE
_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_SPLIT = ".BoundaryEventSplit"  # SpiffWorkflow's spec in front of an element with boundary events


class MoveBlock(StrEnum):
    """Why a case cannot move; the pages render each through gettext with its parameters."""

    ALREADY_THERE = "already_there"
    OTHER_PROCESS = "other_process"  # process, target
    SUBPROCESS_REMOVED = "subprocess_removed"  # element
    REMOVED = "removed"  # element
    RETYPED = "retyped"  # element, before, after
    LANE_MOVED = "lane_moved"  # element, before, after
    PREDECESSOR = "predecessor"  # element, predecessor
    BOUNDARY_ADDED = "boundary_added"  # element, events


_ENGLISH = {
    MoveBlock.ALREADY_THERE: "already on this version",
    MoveBlock.OTHER_PROCESS: "runs process {process!r}, not {target!r}",
    MoveBlock.SUBPROCESS_REMOVED: "subprocess {element!r} does not exist in the new version",
    MoveBlock.REMOVED: "{element}: removed in the new version",
    MoveBlock.RETYPED: "{element}: was a {before}, is a {after}",
    MoveBlock.LANE_MOVED: "{element}: moved from lane {before!r} to {after!r}",
    MoveBlock.PREDECESSOR: "{element}: no longer follows {predecessor}",
    MoveBlock.BOUNDARY_ADDED: "{element}: boundary event(s) {events} added while its task is open (they would "
                              "never fire); move the case once the task is done",
}


@dataclass(frozen=True)
class MoveProblem:
    code: MoveBlock
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return _ENGLISH[self.code].format(**self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "params": self.params, "text": str(self)}


@dataclass(frozen=True)
class CaseCheck:
    case_id: int
    number: str
    from_id: int
    movable: bool
    reasons: list[MoveProblem] = field(default_factory=list)

    def reason_text(self) -> str:
        return "; ".join(str(r) for r in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "reasons": [str(r) for r in self.reasons],
                "problems": [r.as_dict() for r in self.reasons]}


@dataclass(frozen=True)
class Moved:
    case_id: int
    number: str
    from_id: int
    to_id: int
    seq: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- compatibility ---------------------------------------------------------------------------------

def _workflows(wf: Any) -> list[tuple[Any, str | None]]:
    """The top workflow and its subprocesses, with the subprocess spec name (None for the top)."""
    return [(wf, None), *[(sub, sub.spec.name) for sub in wf.subprocesses.values()]]


def _spec_of(new: definitions.LoadedDefinition, sub_name: str | None) -> Any:
    return new.spec if sub_name is None else new.subprocess_specs.get(sub_name)


def incompatibilities(wf: Any, new: definitions.LoadedDefinition) -> list[MoveProblem]:
    """Why this workflow cannot run on ``new`` (empty when it can)."""
    reasons: list[MoveProblem] = []
    for workflow, sub_name in _workflows(wf):
        spec = _spec_of(new, sub_name)
        if spec is None:
            reasons.append(MoveProblem(MoveBlock.SUBPROCESS_REMOVED, {"element": str(sub_name)}))
            continue
        for task in workflow.tasks.values():
            if not task.state & _PREDICTED:
                reasons.extend(_task_problems(task, spec))
    unique = {(r.code, tuple(sorted(r.params.items()))): r for r in reasons}
    return [unique[k] for k in sorted(unique)]


def _task_problems(task: Any, spec: Any) -> list[MoveProblem]:
    old_ts = task.task_spec
    name = old_ts.bpmn_id or old_ts.name
    new_ts = spec.task_specs.get(old_ts.name)
    if new_ts is None:
        return [MoveProblem(MoveBlock.REMOVED, {"element": name})]
    if type(new_ts) is not type(old_ts):
        return [MoveProblem(MoveBlock.RETYPED, {"element": name, "before": type(old_ts).__name__,
                                                "after": type(new_ts).__name__})]
    if old_ts.bpmn_id and getattr(old_ts, "lane", None) != getattr(new_ts, "lane", None):
        return [MoveProblem(MoveBlock.LANE_MOVED, {"element": name, "before": str(old_ts.lane),
                                                   "after": str(new_ts.lane)})]
    if old_ts.name.endswith(_SPLIT) and (added := _boundary_added(task, new_ts)):
        return [added]
    if task.parent is not None and task.parent.task_spec.name in spec.task_specs and \
            new_ts not in spec.task_specs[task.parent.task_spec.name].outputs:
        if task.state & _OPEN and f"{old_ts.name}{_SPLIT}" in spec.task_specs:
            events = [ts.bpmn_id or ts.name for ts in spec.task_specs[f"{old_ts.name}{_SPLIT}"].outputs
                      if ts is not new_ts]
            return [MoveProblem(MoveBlock.BOUNDARY_ADDED, {"element": name, "events": ", ".join(sorted(events))})]
        parent = task.parent.task_spec
        return [MoveProblem(MoveBlock.PREDECESSOR, {"element": name, "predecessor": parent.bpmn_id or parent.name})]
    return []


def _boundary_added(split: Any, new_split: Any) -> MoveProblem | None:
    """Boundary events added to an element whose task is open would never be armed: the split in
    front of it already ran and created the old set of events (SpiffWorkflow creates them only
    when the split runs). Once the task is done the case moves, and the next time the element is
    reached the new split arms every event."""
    main = split.task_spec.name.removesuffix(_SPLIT)
    element = next((c for c in split.children if c.task_spec.name == main), None)
    if split.state != TaskState.COMPLETED or element is None or not element.state & _OPEN:
        return None
    armed = {c.task_spec.name for c in split.children}
    added = sorted(ts.bpmn_id or ts.name for ts in new_split.outputs if ts.name not in armed)
    if not added:
        return None
    return MoveProblem(MoveBlock.BOUNDARY_ADDED, {"element": element.task_spec.bpmn_id or main,
                                                  "events": ", ".join(added)})


# --- re-binding (shared with replay) -----------------------------------------------------------

def _prune(tasks: dict[str, Any], spec: Any) -> None:
    """Drop predicted tasks whose element is gone, with their predicted descendants."""
    doomed = [tid for tid, t in tasks.items() if t["state"] & _PREDICTED and t["task_spec"] not in spec.task_specs]
    while doomed:
        tid = doomed.pop()
        task = tasks.pop(tid, None)
        if task is None:
            continue
        parent = tasks.get(task["parent"]) if task["parent"] else None
        if parent is not None and tid in parent["children"]:
            parent["children"].remove(tid)
        doomed.extend(task["children"])


def rebind(wf: Any, counter: int, new: definitions.LoadedDefinition) -> Any:
    """The same workflow state under the new version's spec (task ids unchanged)."""
    state = orjson.loads(dump_state(wf, counter))
    _prune(state["tasks"], new.spec)
    for sub in (state.get("subprocesses") or {}).values():
        sub_spec = new.subprocess_specs.get(sub["spec"])
        if sub_spec is not None:
            _prune(sub["tasks"], sub_spec)
    rebound, _ = load_state(orjson.dumps(state), new.spec, new.subprocess_specs, SCRIPT_ENGINE)
    return rebound


# --- dry run and move ----------------------------------------------------------------------------

def _target(session: Session, to_id: int) -> tuple[DefinitionVersion, definitions.LoadedDefinition]:
    row = session.get(DefinitionVersion, to_id)
    if row is None:
        raise NotFound(f"definition version {to_id} does not exist")
    return row, definitions.load(session, to_id)


def _check(session: Session, case: Any, target: DefinitionVersion, new: definitions.LoadedDefinition) -> CaseCheck:
    if case.definition_id == target.id:
        return CaseCheck(case.id, case.number, case.definition_id, False, [MoveProblem(MoveBlock.ALREADY_THERE)])
    old = definitions.load(session, case.definition_id)
    if old.process_id != new.process_id:
        return CaseCheck(case.id, case.number, case.definition_id, False, [MoveProblem(
            MoveBlock.OTHER_PROCESS, {"process": old.process_id, "target": new.process_id})])
    wf, _ = load_state(case.state, old.spec, old.subprocess_specs, SCRIPT_ENGINE)
    reasons = incompatibilities(wf, new)
    return CaseCheck(case.id, case.number, case.definition_id, not reasons, reasons)


def plan(session: Session, to_id: int, case_ids: list[int] | None = None) -> list[CaseCheck]:
    """Dry run: every open case not yet on ``to_id`` (or the given ones), movable or not and why."""
    target, new = _target(session, to_id)
    query = select(Case.id, Case.number, Case.definition_id, Case.state).order_by(Case.id)
    if case_ids:
        query = query.where(Case.id.in_(case_ids))
    else:
        query = query.where(Case.status.in_(OPEN_STATUSES), Case.definition_id != to_id)
    checks = []
    for case in session.execute(query):
        checks.append(_check(session, case, target, new))
    return checks


def move(session: Session, case_id: int, to_id: int, actor: str, now: datetime, algorithm: str = SHA256) -> Moved:
    """Move one open case to ``to_id``; refuses (nothing written) when it cannot move. ``algorithm``:
    the configured chain hash (AUDIT_HASH), as for every other event (engine.history)."""
    target, new = _target(session, to_id)
    case = session.scalar(select(Case).where(Case.id == case_id).with_for_update())
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    if case.status not in OPEN_STATUSES:
        raise ValidationError(f"case {case.number} is {case.status}; only open cases move")
    check = _check(session, case, target, new)
    if not check.movable:
        raise ValidationError(f"case {case.number} cannot move: {check.reason_text()}")
    old = definitions.load(session, case.definition_id)
    wf, counter = load_state(case.state, old.spec, old.subprocess_specs, SCRIPT_ENGINE)
    state = dump_state(rebind(wf, counter, new), counter)
    seq, prev_hash, version = case.last_seq + 1, case.last_hash, case.version  # before the update refreshes them
    data_json = canonical_json({"from": old.sha256, "to": new.sha256, "from_id": old.id, "to_id": new.id})
    h = event_hash(prev_hash, case.number, seq, now, actor, EventKind.MIGRATION, None, None, data_json,
                   new.sha256, algorithm)
    moved = update(Case).where(Case.id == case.id, Case.version == version).values(
        definition_id=new.id, state=state, version=version + 1, last_seq=seq, last_hash=h, updated_at=now)
    done = cast("CursorResult[Any]", session.execute(moved))
    if done.rowcount != 1:
        raise Conflict(f"case {case.number} was changed by someone else; run the migration again")
    session.add(Event(case_id=case.id, seq=seq, at=now, actor=actor, kind=str(EventKind.MIGRATION), task_id=None,
                      task_spec=None, data=data_json, spec_hash=new.sha256, prev_hash=prev_hash, hash=h,
                      hash_alg=algorithm))
    for row in session.scalars(select(TaskRow).where(TaskRow.case_id == case.id)):
        info = new.user_tasks.get(row.spec_id)
        if info is not None and info.name != row.name:
            row.name = info.name  # a renamed step; id, claim and deadlines stay
    session.flush()
    return Moved(case.id, case.number, old.id, new.id, seq)


# --- batches with progress ------------------------------------------------------------------------

BATCH_SIZE = 25


@dataclass(frozen=True)
class Batch:
    """One batch of a migration: what moved, what could not move (and why), what failed, and where
    the next batch starts (``next_after`` is None once every open case was looked at)."""

    moved: list[Moved]
    not_movable: list[CaseCheck]
    failed: list[tuple[str, str]]  # (case number, why) of cases whose move raised
    next_after: int | None
    remaining: int  # open cases still on another version after this batch's ids

    def as_dict(self) -> dict[str, Any]:
        return {"moved": [m.as_dict() for m in self.moved], "not_movable": [c.as_dict() for c in self.not_movable],
                "failed": [{"number": n, "reason": r} for n, r in self.failed], "next_after": self.next_after,
                "remaining": self.remaining}


def _pending(to_id: int, after_id: int) -> Any:
    return select(Case.id).where(Case.status.in_(OPEN_STATUSES), Case.definition_id != to_id, Case.id > after_id)


def migrate_batch(factory: sessionmaker[Session], to_id: int, actor: str, now: datetime, *, after_id: int = 0,
                  size: int = BATCH_SIZE, algorithm: str = SHA256) -> Batch:
    """Look at the next ``size`` open cases (ids above ``after_id``) and move those that can move,
    each in its own transaction: no write lock is held across cases, and a case that fails (even
    unexpectedly) is reported while the others stay moved. The caller repeats with ``next_after``."""
    with factory() as s:
        _target(s, to_id)  # NotFound before anything else
        ids = list(s.scalars(_pending(to_id, after_id).order_by(Case.id).limit(size)))
        checks = plan(s, to_id, ids) if ids else []
    moved: list[Moved] = []
    failed: list[tuple[str, str]] = []
    for check in (c for c in checks if c.movable):
        try:
            with transaction(factory) as own:
                moved.append(move(own, check.case_id, to_id, actor, now, algorithm))
        except CityCaseError as exc:
            failed.append((check.number, str(exc)))
        except Exception as exc:  # noqa: BLE001 — one broken case must not stop the migration of the others
            failed.append((check.number, f"{type(exc).__name__}: {exc}"))
    last = ids[-1] if ids else after_id
    with factory() as s:
        remaining = s.scalar(select(func.count()).select_from(_pending(to_id, last).subquery())) or 0
    return Batch(moved, [c for c in checks if not c.movable], failed, last if ids and remaining else None, remaining)


def pending_count(session: Session, to_id: int) -> int:
    """Open cases not yet on ``to_id`` (the migration's total, for its progress bar)."""
    return session.scalar(select(func.count()).select_from(_pending(to_id, 0).subquery())) or 0


# --- replay ----------------------------------------------------------------------------------------

def replay_migration(session: Session, wf: Any, counter: int, current: definitions.LoadedDefinition,
                     data: dict[str, Any]) -> tuple[Any, definitions.LoadedDefinition]:
    """Replay's side of a migration event: check the recorded hashes and re-bind the same way."""
    if data.get("from") != current.sha256:
        raise ValueError(f"migration event from {data.get('from')} but the case ran on {current.sha256}")
    new = definitions.load(session, int(data["to_id"]))
    if new.sha256 != data.get("to"):
        raise ValueError(f"migration event to {data.get('to')} but version {new.id} is {new.sha256}")
    return rebind(wf, counter, new), new


__all__ = ["Batch", "CaseCheck", "MoveBlock", "MoveProblem", "Moved", "incompatibilities", "rebind", "plan", "move", "migrate_batch", "pending_count",
           "replay_migration"]

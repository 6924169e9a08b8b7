"""Engine commands: start_case, claim, release, complete_task, fire_timers, supervise.

Each command runs inside the caller's transaction and never commits: it locks or
version-checks the case, loads the workflow (a live one when its version matches, else from
the stored state with the cached spec), applies the command, runs engine steps, and writes
state, task rows, deadline rows, one history event and outbox rows. A stale version or a task
completed by someone else raises Conflict and the caller rolls everything back.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine import definitions, spiff_patches
from engine.calendar import get_calendar
from engine.clock import Clock, using_clock
from engine.deadlines import Deadlines, parse
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.fastsql import (
    DELETE_DEADLINES,
    DELETE_TASK,
    INSERT_CASE,
    INSERT_DEADLINE,
    INSERT_EVENT,
    INSERT_OUTBOX,
    INSERT_TASK,
    NEXT_COUNTER,
    SELECT_CLASS,
    SELECT_TASK,
    SELECT_TASK_AND_CASE,
    UPDATE_CASE,
    Writer,
)
from engine.forms import validate as validate_form
from engine.history import GENESIS, canonical_json, event_hash
from engine.ids import IdSequence, using_ids
from engine.model import SOURCES, STATE_KINDS, URGENCIES, Actor, EngineContext
from engine.models import Case, Department, Event, TaskRow
from engine.servicelog import ServiceLog, using_service_log
from engine.services import SCRIPT_ENGINE
from engine.state import dump_state, load_state
from handlers.context import ServiceContext, using_service_context

spiff_patches.apply()

# Moved to engine.model; re-exported here until every caller imports them from there.
__reexported__ = (Actor, EngineContext, SOURCES, URGENCIES, STATE_KINDS)


# --- live workflow cache ------------------------------------------------------------------------

class _LiveCache:
    """Workflows kept after a command, keyed by case and reused when the stored version matches."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int], tuple[int, str, BpmnWorkflow, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int], version: int, last_hash: str) -> tuple[BpmnWorkflow, int] | None:
        with self._lock:
            item = self._items.pop(key, None)  # taken out: one command at a time owns it
        if item is None or item[0] != version or item[1] != last_hash:
            return None
        return item[2], item[3]

    def put(self, key: tuple[str, int], version: int, last_hash: str, wf: BpmnWorkflow, ids: int) -> None:
        with self._lock:
            self._items[key] = (version, last_hash, wf, ids)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


LIVE = _LiveCache()


# --- the command frame ---------------------------------------------------------------------------

@dataclass
class _Snapshot:
    """What the projection needs from a workflow, found in one pass over its tasks."""

    ready: dict[str, Any]  # READY user tasks by id
    timers: dict[str, tuple[str, datetime]]  # WAITING timer task id -> (name, due)
    data: dict[str, Any]  # the freshest live task data
    suspended: bool


def _snapshot(wf: BpmnWorkflow) -> _Snapshot:
    ready: dict[str, Any] = {}
    timers: dict[str, tuple[str, datetime]] = {}
    freshest = None
    suspended = False
    live = TaskState.READY | TaskState.WAITING | TaskState.STARTED
    tasks = list(wf.tasks.values())
    for sub in wf.subprocesses.values():
        tasks.extend(sub.tasks.values())
    for task in tasks:
        state = task.state
        if not state & live:
            continue
        if freshest is None or task.last_state_change > freshest.last_state_change:
            freshest = task
        spec = task.task_spec
        if state == TaskState.READY and isinstance(spec, UserTask):
            ready[str(task.id)] = task
            suspended = suspended or spec.bpmn_id == "resume"
        elif state == TaskState.WAITING and isinstance(getattr(spec, "event_definition", None), TimerEventDefinition):
            value = task._get_internal_data("event_value")
            if isinstance(value, dict):  # cycle timers keep {"next": …}
                value = value.get("next")
            if value:
                timers[str(task.id)] = (spec.bpmn_id or spec.name, TimerEventDefinition.get_datetime(value))
    # The case's current data: that of its open user tasks (they carry the latest form input),
    # else of the most recently changed live task.
    if ready:
        data = max(ready.values(), key=lambda t: t.last_state_change).data
    else:
        data = freshest.data if freshest is not None else (wf.last_task.data if wf.last_task else {})
    return _Snapshot(ready, timers, data, suspended)


@dataclass
class _Loaded:
    case: Any  # a row of case columns + definition sha
    definition: definitions.LoadedDefinition
    workflow: BpmnWorkflow
    ids: IdSequence
    cache_key: tuple[str, int]
    before: _Snapshot


@dataclass
class _Outcome:
    event_kind: str
    actor: str
    task_id: str | None = None
    task_spec: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _db_key(session: Session) -> str:
    return str(session.get_bind().url)


def _select_case(session: Session, case_id: int, lock: bool = False):
    row = Writer(session).select_case(case_id, lock)
    if row is None:
        raise NotFound(f"case {case_id} does not exist")
    return row


def _load(session: Session, case_row) -> _Loaded:
    definition = definitions.load(session, case_row.definition_id, case_row.spec_hash)
    key = (_db_key(session), case_row.id)
    live = LIVE.get(key, case_row.version, case_row.last_hash)
    if live is not None:
        wf, counter = live
    else:
        wf, counter = load_state(case_row.state, definition.spec, definition.subprocess_specs, SCRIPT_ENGINE)
    return _Loaded(case_row, definition, wf, IdSequence(case_row.number, counter), key, _snapshot(wf))


def _deadlines(session: Session, ctx: EngineContext) -> Deadlines:
    return Deadlines(get_calendar(session, ctx.timezone, ctx.work_windows, max_age=1.0), ctx.clock)


class _LazyDeadlines:
    """Loads the calendar only when a handler actually computes a deadline."""

    def __init__(self, session: Session, ctx: EngineContext) -> None:
        self._session, self._ctx, self._real = session, ctx, None

    def __getattr__(self, name: str):
        if self._real is None:
            self._real = _deadlines(self._session, self._ctx)
        return getattr(self._real, name)


def step_workflow(workflow: BpmnWorkflow, clock: Clock, ids: IdSequence, log: ServiceLog,
                  service_ctx: ServiceContext, apply: Callable[[BpmnWorkflow], Any]) -> Any:
    """The one way a command changes a workflow; replay calls it too, so both run identically."""
    with using_clock(clock), using_ids(ids), using_service_log(log), using_service_context(service_ctx):
        result = apply(workflow)
        # Timers that came due are noticed before the engine runs, so one pass of engine steps
        # covers both; a timer created during this pass is evaluated when it starts waiting.
        workflow.refresh_timers()
        workflow.do_engine_steps()
    return result


def _run(session: Session, ctx: EngineContext, loaded: _Loaded, apply: Callable[[BpmnWorkflow], _Outcome]) -> _Outcome:
    """Apply a command to the workflow with the engine's clock, ids and services installed."""
    log = ServiceLog()
    service_ctx = ServiceContext(_LazyDeadlines(session, ctx))  # type: ignore[arg-type]
    try:
        outcome = step_workflow(loaded.workflow, ctx.clock, loaded.ids, log, service_ctx, apply)
    except WorkflowException as exc:
        raise ValidationError(f"the process could not continue: {exc}") from exc
    if log.calls:
        outcome.data["services"] = log.calls
    if service_ctx.outbox:
        outcome.data["outbox"] = service_ctx.outbox
    return outcome


def _save(session: Session, ctx: EngineContext, loaded: _Loaded, outcome: _Outcome,
          expected_version: int | None, after: _Snapshot | None = None) -> dict[str, Any]:
    """Write state, projection, deadlines, history and outbox; optimistic version check first."""
    now = ctx.clock.now()
    case = loaded.case
    wf = loaded.workflow
    w = Writer(session)
    after = after or _snapshot(wf)
    state = dump_state(wf, loaded.ids.counter)
    status, outcome_name = _status(wf, loaded.definition, after)
    version = expected_version if expected_version is not None else case.version
    seq = case.last_seq + 1
    data_json = canonical_json(outcome.data)
    h = event_hash(case.last_hash, case.number, seq, now, outcome.actor, outcome.event_kind, outcome.task_id,
                   outcome.task_spec, data_json, case.spec_hash)
    updated = w.run(UPDATE_CASE, {
        "state": state, "new_version": version + 1, "seq": seq, "hash": h, "now": w.time(now), "status": status,
        "department": after.data.get("department") or case.department_code, "outcome": outcome_name,
        "closed_at": w.time(now) if outcome_name else None, "id": case.id, "version": version})
    if updated != 1:
        raise Conflict("the case was changed by someone else; reload and try again")
    # Everything after the version check is written in one batch (one round trip on PostgreSQL).
    ops: list[tuple[str, Any]] = [(INSERT_EVENT, {
        "case_id": case.id, "seq": seq, "at": w.time(now), "actor": outcome.actor, "kind": outcome.event_kind,
        "task_id": outcome.task_id, "task_spec": outcome.task_spec, "data": data_json,
        "spec_hash": case.spec_hash, "prev_hash": case.last_hash, "hash": h})]
    ops += _project_tasks(session, ctx, w, loaded, after, now)
    if after.timers != loaded.before.timers:
        ops.append((DELETE_DEADLINES, {"case_id": case.id}))
        ops.append((INSERT_DEADLINE, [{"case_id": case.id, "task_id": tid, "name": name, "due_at": w.time(due)}
                                      for tid, (name, due) in after.timers.items()]))
    ops.append((INSERT_OUTBOX, [{"case_id": case.id, "kind": m["kind"], "created_at": w.time(now),
                                 "payload": canonical_json({**m, "case": case.number})}
                                for m in outcome.data.get("outbox", [])]))
    w.batch(ops)
    LIVE.put(loaded.cache_key, version + 1, h, wf, loaded.ids.counter)
    return {"case_id": case.id, "number": case.number, "version": version + 1, "status": status, "seq": seq}


def _status(wf: BpmnWorkflow, definition: definitions.LoadedDefinition, snap: _Snapshot) -> tuple[str, str | None]:
    if not wf.is_completed():
        return ("suspended" if snap.suspended else "open"), None
    for task in wf.get_tasks(state=TaskState.COMPLETED):
        outcome = definition.outcomes.get(task.task_spec.bpmn_id)
        if outcome:
            status = {"closed": "closed", "self_handled": "closed", "voided": "voided", "invalid": "invalid"}
            return status.get(outcome, "closed"), outcome
    return "closed", "completed"


def _project_tasks(session: Session, ctx: EngineContext, w: Writer, loaded: _Loaded, after: _Snapshot,
                   now: datetime) -> list[tuple[str, Any]]:
    """The writes that keep the case's task rows equal to its READY user tasks (a diff, in memory)."""
    case = loaded.case
    before = loaded.before.ready
    ops: list[tuple[str, Any]] = [(DELETE_TASK, [{"id": tid} for tid in before.keys() - after.ready.keys()])]
    new = [after.ready[tid] for tid in after.ready.keys() - before.keys()]
    if not new:
        return ops
    deadlines: Deadlines | None = None
    rows = []
    for task in sorted(new, key=lambda t: t.task_spec.bpmn_id):
        info = loaded.definition.user_tasks[task.task_spec.bpmn_id]
        tdata = task.data
        department = tdata.get("department") if info.lane in definitions.DEPARTMENT_LANES else None
        own = tdata.get(f"{info.spec_id}_deadline")
        if isinstance(own, dict) and own.get("due_at"):
            warn_at, due_at = parse(own["warn_at"]), parse(own["due_at"])
        elif tdata.get("step_hours"):
            deadlines = deadlines or _deadlines(session, ctx)
            warn_at, due_at = deadlines.step(float(tdata["step_hours"]))
        else:
            warn_at = due_at = None
        rows.append({"id": str(task.id), "case_id": case.id, "spec_id": info.spec_id, "name": info.name,
                     "role": info.role, "department_code": department, "district_code": case.district_code,
                     "class_code": case.class_code, "source": case.source, "created_at": w.time(now),
                     "warn_at": w.time(warn_at), "due_at": w.time(due_at)})
    ops.append((INSERT_TASK, rows))
    return ops


def _locked_case(session: Session, case_id: int):
    """Read the case; on PostgreSQL lock its row so concurrent commands queue instead of failing late."""
    return _select_case(session, case_id, lock=True)


def _sqlite_conflict(exc: OperationalError) -> Conflict:
    return Conflict(f"the case is being changed by someone else; try again ({exc.orig})")


# --- commands ---------------------------------------------------------------------------------------

def _next_case_number(session: Session, ctx: EngineContext) -> str:
    from zoneinfo import ZoneInfo

    day = ctx.clock.now().astimezone(ZoneInfo(ctx.timezone)).strftime("%Y%m%d")
    value = Writer(session).one(NEXT_COUNTER, {"name": f"case:{day}"})[0]
    return f"{day}{value:05d}"


def _validated_report(session: Session, report: dict[str, Any]) -> dict[str, Any]:
    from engine.geo import check_lon_lat, component_location, get_locator

    if not isinstance(report, dict):
        raise ValidationError("a report must be a JSON object")
    errors: dict[str, str] = {}
    known = {"source", "class_code", "urgency", "lon", "lat", "component_id", "description", "address",
             "reporter", "self_handled", "photos"}
    for key in report:
        if key not in known:
            errors[key] = f"unknown field; allowed: {', '.join(sorted(known))}"
    source = report.get("source")
    if source not in SOURCES:
        errors["source"] = f"must be one of {', '.join(SOURCES)}"
    component_id = report.get("component_id")
    class_code = report.get("class_code")
    location = None
    lon = lat = None
    if component_id:
        component, location = component_location(session, str(component_id))
        class_code = class_code or component.class_code
        lon, lat = component.lon, component.lat
    elif report.get("lon") is None or report.get("lat") is None:
        errors["lon"] = "a location (lon and lat) or a component_id is required"
    else:
        lon, lat = check_lon_lat(report.get("lon"), report.get("lat"))
        location = get_locator(session, max_age=5.0).locate(lon, lat)
    pclass = Writer(session).one(SELECT_CLASS, {"code": class_code}) if isinstance(class_code, str) else None
    if pclass is None or not pclass.active:
        errors["class_code"] = f"unknown class {class_code!r}; see `citycase seed classes` for the list"
    urgency = report.get("urgency") or (pclass.urgency if pclass else "normal")
    if urgency not in URGENCIES:
        errors["urgency"] = f"must be one of {', '.join(URGENCIES)}"
    for key, limit in (("description", 2000), ("address", 200), ("reporter", 100)):
        value = report.get(key, "")
        if not isinstance(value, str) or len(value) > limit:
            errors[key] = f"must be text of at most {limit} characters"
    self_handled = report.get("self_handled", False)
    if not isinstance(self_handled, bool):
        errors["self_handled"] = "must be true or false"
    elif self_handled and source != "supervisor":
        errors["self_handled"] = "only a supervisor can report a problem as fixed on the spot (自处理)"
    photos = report.get("photos", [])
    if not isinstance(photos, list) or not all(isinstance(p, str) for p in photos):
        errors["photos"] = "must be a list of attachment tokens"
    if errors:
        raise ValidationError("the report is not valid: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                              errors)
    assert location is not None and pclass is not None
    return dict(source=source, class_code=pclass.code, urgency=urgency, lon=lon, lat=lat,
                component_id=component_id, location=location, description=report.get("description", ""),
                address=report.get("address", ""), reporter=report.get("reporter", ""),
                self_handled=self_handled, photos=photos)


def start_case(session: Session, ctx: EngineContext, report: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """File a report as a new case on the latest definition and run it to its first wait state."""
    r = _validated_report(session, report)
    definition = definitions.latest(session)
    now = ctx.clock.now()
    number = _next_case_number(session, ctx)
    loc = r["location"]
    initial = {"source": r["source"], "class_code": r["class_code"], "urgency": r["urgency"],
               "district_code": loc.district_code, "street_code": loc.street_code, "grid_code": loc.grid_code,
               "self_handled": r["self_handled"]}
    ids = IdSequence(number)
    with using_clock(ctx.clock), using_ids(ids):
        wf = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=SCRIPT_ENGINE)
    w = Writer(session)
    case_id = w.one(INSERT_CASE, {
        "number": number, "definition_id": definition.id, "source": r["source"], "class_code": r["class_code"],
        "urgency": r["urgency"], "grid_code": loc.grid_code, "community_code": loc.community_code,
        "street_code": loc.street_code, "district_code": loc.district_code, "lon": r["lon"], "lat": r["lat"],
        "address": r["address"], "description": r["description"], "component_id": r["component_id"],
        "reporter": r["reporter"] or actor.username, "public_token": secrets.token_urlsafe(24),
        "now": w.time(now), "state": b"{}", "last_hash": GENESIS})[0]
    if r["photos"]:
        _attach(session, case_id, r["photos"], actor)
    row = _select_case(session, case_id)
    loaded = _Loaded(row, definition, wf, ids, (_db_key(session), case_id), _snapshot(wf))

    def apply(workflow: BpmnWorkflow) -> _Outcome:
        _start(workflow, initial)
        return _Outcome("start", actor.username, data={"initial": initial})

    outcome = _run(session, ctx, loaded, apply)
    return _save(session, ctx, loaded, outcome, None)


def _start(workflow: BpmnWorkflow, initial: dict[str, Any]) -> None:
    start = workflow.get_tasks(state=TaskState.READY)[0]
    start.data.update(initial)


def _complete(workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
    from uuid import UUID

    task = workflow.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.READY:
        raise Conflict(f"task {task_id} is no longer open")
    task.data.update(data)
    task.run()


def _message(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    workflow.catch(BpmnEvent(MessageEventDefinition(name), payload))


def _attach(session: Session, case_id: int, tokens: list[str], actor: Actor) -> None:
    from engine.models import Attachment

    result = session.execute(update(Attachment).where(Attachment.token.in_(tokens), Attachment.case_id.is_(None),
                                                      Attachment.uploaded_by == actor.username)
                             .values(case_id=case_id))
    if result.rowcount != len(set(tokens)):
        raise ValidationError("some photos are unknown, already used, or uploaded by someone else; upload again")


def _task_row(session: Session, task_id: str):
    row = Writer(session).one(SELECT_TASK, {"id": task_id})
    if row is None:
        raise Conflict(f"task {task_id} is no longer open (it was completed or the case moved on)")
    return row


def _task_and_case(session: Session, task_id: str):
    """The task row and its case (locked on PostgreSQL) in one round trip."""
    w = Writer(session)
    sql = SELECT_TASK_AND_CASE + (" FOR UPDATE OF c" if w.dialect == "postgresql" else "")
    joined = w.one(sql, {"id": task_id})
    if joined is None:
        raise Conflict(f"task {task_id} is no longer open (it was completed or the case moved on)")
    m = joined._mapping
    task = SimpleNamespace(id=m["task_id"], case_id=m["id"], spec_id=m["spec_id"], name=m["task_name"],
                           role=m["role"], department_code=m["task_department"],
                           district_code=m["task_district"], assignee=m["assignee"])
    return task, joined


def check_permission(actor: Actor, row: TaskRow) -> None:
    """The lane ↔ role check and the department check, on every command; a claim is the claimer's."""
    check_visible(actor, row)
    if row.assignee and row.assignee != actor.username:
        raise Forbidden(f"task {row.name} is claimed by {row.assignee}")


def check_visible(actor: Actor, row: TaskRow) -> None:
    """Whether the actor may see the task at all: role, department and district."""
    if actor.role != row.role:
        raise Forbidden(f"task {row.name} ({row.spec_id}) is for role {row.role}, you are {actor.role}")
    if row.department_code and actor.department_code != row.department_code:
        raise Forbidden(f"task {row.name} belongs to department {row.department_code}")
    if row.role == "supervisor" and actor.district_code and actor.district_code != row.district_code:
        raise Forbidden(f"task {row.name} is in district {row.district_code}, outside your area")


def claim(session: Session, ctx: EngineContext, task_id: str, actor: Actor) -> dict[str, Any]:
    row = _task_row(session, task_id)
    check_permission(actor, row)
    _locked_case(session, row.case_id)  # lock order: case first, like every other command
    result = session.execute(update(TaskRow).where(TaskRow.id == task_id, TaskRow.assignee.is_(None))
                             .values(assignee=actor.username))
    if result.rowcount != 1 and row.assignee != actor.username:
        raise Conflict(f"task {row.name} was claimed by someone else")
    _append_audit(session, ctx, row.case_id, actor, "claim", row)
    return {"task_id": task_id, "assignee": actor.username}


def release(session: Session, ctx: EngineContext, task_id: str, actor: Actor) -> dict[str, Any]:
    row = _task_row(session, task_id)
    if row.assignee != actor.username:
        raise Forbidden(f"task {row.name} is not claimed by you")
    _locked_case(session, row.case_id)
    session.execute(update(TaskRow).where(TaskRow.id == task_id).values(assignee=None))
    _append_audit(session, ctx, row.case_id, actor, "release", row)
    return {"task_id": task_id, "assignee": None}


def _append_audit(session: Session, ctx: EngineContext, case_id: int, actor: Actor, kind: str,
                  row: TaskRow | None, data: dict[str, Any] | None = None) -> None:
    """A history event that does not change workflow state (claim, release, rating…)."""
    case = _select_case(session, case_id)
    now = ctx.clock.now()
    seq = case.last_seq + 1
    data_json = canonical_json(data or {})
    task_id, spec = (row.id, row.spec_id) if row else (None, None)
    h = event_hash(case.last_hash, case.number, seq, now, actor.username, kind, task_id, spec, data_json,
                   case.spec_hash)
    result = session.execute(update(Case).where(Case.id == case_id, Case.last_seq == case.last_seq)
                             .values(last_seq=seq, last_hash=h))
    if result.rowcount != 1:
        raise Conflict("the case was changed by someone else; try again")
    session.execute(insert(Event).values(case_id=case_id, seq=seq, at=now, actor=actor.username, kind=kind,
                                         task_id=task_id, task_spec=spec, data=data_json,
                                         spec_hash=case.spec_hash, prev_hash=case.last_hash, hash=h))
    # The live workflow is unchanged, but its cache key includes last_hash: carry it forward.
    key = (_db_key(session), case_id)
    live = LIVE.get(key, case.version, case.last_hash)
    if live is not None:
        LIVE.put(key, case.version, h, live[0], live[1])


def form_options(session: Session, spec_id: str) -> dict[str, list[Any]]:
    """Runtime choices for form fields with a valuesKey (e.g. the departments to dispatch to)."""
    departments = session.execute(select(Department.code, Department.name)
                                  .where(Department.handler_type.notin_(["supervision_center", "command_center"]))
                                  .order_by(Department.code)).all()
    return {"department_options": [{"value": d.code, "label": d.name} for d in departments]}


def complete_task(session: Session, ctx: EngineContext, task_id: str, actor: Actor, data: dict[str, Any],
                  expected_version: int | None = None) -> dict[str, Any]:
    """Complete a user task with form data validated against the task's form."""
    try:
        row, case = _task_and_case(session, task_id)
        check_permission(actor, row)
        if expected_version is not None and expected_version != case.version:
            raise Conflict("the case changed since you opened it; reload to see the new state")
        loaded = _load(session, case)
        info = loaded.definition.user_tasks[row.spec_id]
        options = form_options(session, row.spec_id) if any(f.values_key for f in info.form.fields) else {}
        clean = validate_form(info.form, data or {}, options)
        photos = [tok for f in info.form.fields if f.type == "filepicker" for tok in clean.get(f.key) or []]
        if photos:
            _attach(session, case.id, photos, actor)
        def apply(workflow: BpmnWorkflow) -> _Outcome:
            _complete(workflow, task_id, clean)
            return _Outcome("complete", actor.username, task_id, row.spec_id, {"form": clean})

        try:
            outcome = _run(session, ctx, loaded, apply)
            return _save(session, ctx, loaded, outcome, case.version)
        except BaseException:
            LIVE.get(loaded.cache_key, -1, "")  # drop the half-applied live workflow
            raise
    except OperationalError as exc:
        if session.get_bind().dialect.name == "sqlite" and "locked" in str(exc.orig):
            raise _sqlite_conflict(exc) from exc
        raise


def fire_timers(session: Session, ctx: EngineContext, case_id: int) -> dict[str, Any] | None:
    """Fire the case's timers that are due on ``ctx.clock``; None when nothing was due."""
    case = _locked_case(session, case_id)
    loaded = _load(session, case)

    def apply(workflow: BpmnWorkflow) -> _Outcome:
        workflow.refresh_timers()
        return _Outcome("timer", "scheduler")

    try:
        outcome = _run(session, ctx, loaded, apply)
        after = _snapshot(loaded.workflow)
        fired = sorted(loaded.before.timers.keys() - after.timers.keys())
        if not fired:
            # Nothing was due (or another scheduler fired it first): leave the case untouched.
            LIVE.get(loaded.cache_key, -1, "")
            return None
        outcome.data["fired"] = fired
        return _save(session, ctx, loaded, outcome, case.version, after)
    except BaseException:
        LIVE.get(loaded.cache_key, -1, "")
        raise


def supervise(session: Session, ctx: EngineContext, case_id: int, actor: Actor, level: str,
              text_: str) -> dict[str, Any]:
    """A leader's supervision order (督办) or reminder (催办) on an open case."""
    if actor.role != "leader":
        raise Forbidden("only leaders issue supervision orders")
    if level not in ("remind", "order"):
        raise ValidationError("level must be remind (催办) or order (督办)", {"level": "remind | order"})
    if not isinstance(text_, str) or not text_.strip() or len(text_) > 2000:
        raise ValidationError("the order needs a text of 1–2000 characters", {"text": "required"})
    case = _locked_case(session, case_id)
    if case.status not in ("open", "suspended"):
        raise Conflict(f"case {case.number} is {case.status}; supervision orders are for open cases")
    if actor.department_code and case.department_code and actor.department_code != case.department_code:
        raise Forbidden(f"case {case.number} is handled by {case.department_code}, not your department")
    loaded = _load(session, case)
    payload = {"level": level, "text": text_.strip(), "to": case.department_code or "command_center",
               "by": actor.username}

    def apply(workflow: BpmnWorkflow) -> _Outcome:
        _message(workflow, "supervision_order", payload)
        return _Outcome("message", actor.username, data={"message": "supervision_order", "payload": payload})

    try:
        outcome = _run(session, ctx, loaded, apply)
        return _save(session, ctx, loaded, outcome, case.version)
    except BaseException:
        LIVE.get(loaded.cache_key, -1, "")
        raise


__all__ = ["Actor", "EngineContext", "start_case", "claim", "release", "complete_task", "fire_timers",
           "supervise", "form_options", "check_permission", "STATE_KINDS"]


def task_data(session: Session, task_id: str) -> dict[str, Any]:
    """The data a READY task sees (e.g. the dispatch rule's suggested_department), read-only."""
    row = _task_row(session, task_id)
    case = _select_case(session, row.case_id)
    loaded = _load(session, case)
    from uuid import UUID

    task = loaded.workflow.get_task_from_id(UUID(task_id))
    data = dict(task.data) if task is not None else {}
    LIVE.put(loaded.cache_key, case.version, case.last_hash, loaded.workflow, loaded.ids.counter)
    return data


def rate_case(session: Session, ctx: EngineContext, case_id: int, rating: int, note: str = "") -> dict[str, Any]:
    """The reporter's rating of a closed case (1–5 and a comment), kept on the case and in its history."""
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError("the rating must be 1 to 5", {"rating": "1–5"})
    if len(note or "") > 1000:
        raise ValidationError("the comment may have at most 1000 characters", {"note": "≤ 1000"})
    case = _locked_case(session, case_id)
    if case.status != "closed":
        raise Conflict(f"case {case.number} is {case.status}; it can be rated once closed")
    result = session.execute(update(Case).where(Case.id == case_id, Case.rating.is_(None))
                             .values(rating=rating, rating_note=(note or "").strip() or None))
    if result.rowcount != 1:
        raise Conflict(f"case {case.number} has already been rated")
    _append_audit(session, ctx, case_id, Actor("reporter", "citizen"), "rating", None,
                  {"rating": rating, "note": (note or "").strip()})
    return {"case_id": case_id, "rating": rating}

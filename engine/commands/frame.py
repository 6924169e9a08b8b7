"""The command frame: what every command does around its own step.

``with CommandFrame(session, ctx) as frame:`` reads the clock once and installs that instant
as a frozen clock for everything inside (SpiffWorkflow's task stamps and timer checks,
deadlines, the event, task rows, outbox rows), so replaying the recorded event at its recorded
instant reproduces the stored state exactly. Inside, a command locks its case
(``frame.case``/``frame.task_and_case``), loads the workflow (``frame.load``: the live one when
it matches the stored version, else the stored state), runs its step (``frame.run``) and saves
state, task rows, deadlines, one history event and outbox rows (``frame.save``). Events that do
not change the workflow go through ``frame.annotate``. On any failure the live workflow is
evicted and a locked SQLite database becomes a Conflict; the caller rolls back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import Token
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine import definitions
from engine.calendar import get_calendar
from engine.clock import ManualClock, using_clock
from engine.commands.live import LIVE, CacheKey, LiveWorkflow
from engine.commands.results import CaseResult
from engine.commands.snapshot import Snapshot, case_status, snapshot
from engine.commands.steps import step_workflow
from engine.deadlines import Deadlines, limit_calendar, parse
from engine.departments import department_districts
from engine.errors import Conflict, NotFound, ValidationError
from engine.fastsql import (
    DELETE_DEADLINES,
    DELETE_TASK,
    INSERT_DEADLINE,
    INSERT_OUTBOX,
    INSERT_TASK,
    SELECT_TASK,
    SELECT_TASK_AND_CASE,
    UPDATE_CASE,
    Writer,
)
from engine.history import ADVANCE_HEAD, ChainHead, append_event, canonical_json
from engine.ids import IdSequence
from engine.logs import CASE_NUMBER
from engine.metrics import Command, observe_command
from engine.model import OPEN_STATUSES, Actor, EngineContext, LimitCalendar
from engine.queries.visibility import SUB_CENTER_ROLES, task_district
from engine.servicelog import ServiceLog
from engine.services import SCRIPT_ENGINE
from engine.state import dump_state, load_state
from handlers.context import ServiceContext


@dataclass(frozen=True)
class CaseRef:
    """The case columns a command reads (``SELECT_CASE``), with its definition's hash."""

    id: int
    number: str
    definition_id: int
    status: str
    class_code: str
    district_code: str
    source: str
    department_code: str | None
    state: bytes
    version: int
    last_seq: int
    last_hash: str
    spec_hash: str

    @classmethod
    def of(cls, row: Any) -> CaseRef:
        m = row._mapping
        return cls(m["id"], m["number"], m["definition_id"], m["status"], m["class_code"], m["district_code"],
                   m["source"], m["department_code"], m["state"], m["version"], m["last_seq"], m["last_hash"],
                   m["spec_hash"])

    @property
    def head(self) -> ChainHead:
        return ChainHead(self.id, self.number, self.last_seq, self.last_hash, self.spec_hash)


@dataclass(frozen=True)
class TaskRef:
    """A task row as commands see it: what the visibility rule and the claim check read."""

    id: str
    case_id: int
    spec_id: str
    name: str
    role: str
    department_code: str | None
    district_code: str
    assignee: str | None


@dataclass
class Loaded:
    case: CaseRef
    definition: definitions.LoadedDefinition
    workflow: BpmnWorkflow
    ids: IdSequence
    key: CacheKey
    before: Snapshot


@dataclass
class Outcome:
    """The event a command records."""

    kind: str
    actor: str
    task_id: str | None = None
    task_spec: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def updated(session: Session, statement: Any) -> int:
    """How many rows an ORM UPDATE changed (``execute`` is typed as a plain Result)."""
    return cast("CursorResult[Any]", session.execute(statement)).rowcount


def read_case(writer: Writer, case_id: int, lock: bool = False) -> CaseRef:
    row = writer.select_case(case_id, lock)
    if row is None:
        raise NotFound(f"case {case_id} does not exist")
    return CaseRef.of(row)


def read_task(writer: Writer, task_id: str) -> TaskRef:
    row = writer.one(SELECT_TASK, {"id": task_id})
    if row is None:
        raise Conflict(f"task {task_id} is no longer open (it was completed or the case moved on)")
    return TaskRef(*row)


def load_workflow(session: Session, case: CaseRef) -> Loaded:
    """The case's workflow: the live one when it matches the stored version, else the stored state."""
    definition = definitions.load(session, case.definition_id, case.spec_hash)
    key = (str(session.get_bind().engine.url), case.id)
    live = LIVE.take(key, case.version, case.last_hash)
    if live is not None:
        wf, counter = live.workflow, live.id_counter
    else:
        wf, counter = load_state(case.state, definition.spec, definition.subprocess_specs, SCRIPT_ENGINE)
    return Loaded(case, definition, wf, IdSequence(case.number, counter), key, snapshot(wf))


class _LazyDeadlines:
    """A DeadlineService that loads the calendar only when a handler actually computes a deadline."""

    def __init__(self, frame: CommandFrame) -> None:
        self._frame = frame

    def __getattr__(self, name: str) -> Any:
        return getattr(self._frame.deadlines(), name)


class CommandFrame:
    def __init__(self, session: Session, ctx: EngineContext, command: Command) -> None:
        self.session = session
        self.command = command  # the metrics' label (engine.metrics)
        self._started = 0.0
        self._case_log: Token[str | None] | None = None
        self.now: datetime = ctx.clock.now()  # the command's one clock read
        self.clock = ManualClock(self.now)  # never moved: a frozen clock
        self.ctx = replace(ctx, clock=self.clock)
        self.writer = Writer(session)
        self._db = str(session.get_bind().engine.url)
        self._deadlines: Deadlines | None = None
        self._touched: list[CacheKey] = []
        self._scope: Any = None

    def __enter__(self) -> CommandFrame:
        self._started = time.perf_counter()  # a duration for the metrics, never a business time
        self._scope = using_clock(self.clock)
        self._scope.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self._scope.__exit__(exc_type, exc, tb)
        if self._case_log is not None:
            CASE_NUMBER.reset(self._case_log)
        if exc is None:
            observe_command(self.command, None, time.perf_counter() - self._started)
            return
        for key in self._touched:  # a half-applied workflow must never be reused
            LIVE.evict(key)
        if (isinstance(exc, OperationalError) and self.writer.dialect == "sqlite"
                and "locked" in str(exc.orig)):
            conflict = Conflict(f"the case is being changed by someone else; try again ({exc.orig})")
            observe_command(self.command, conflict, time.perf_counter() - self._started)
            raise conflict from exc
        observe_command(self.command, exc, time.perf_counter() - self._started)

    # --- reading and locking ---------------------------------------------------------------

    def case(self, case_id: int, lock: bool = True) -> CaseRef:
        """The case; on PostgreSQL its row is locked so concurrent commands queue instead of failing late."""
        return self._logging(read_case(self.writer, case_id, lock))

    def task(self, task_id: str) -> TaskRef:
        return read_task(self.writer, task_id)

    def task_and_case(self, task_id: str) -> tuple[TaskRef, CaseRef]:
        """The task row and its case (locked on PostgreSQL) in one round trip."""
        sql = SELECT_TASK_AND_CASE + (" FOR UPDATE OF c" if self.writer.dialect == "postgresql" else "")
        joined = self.writer.one(sql, {"id": task_id})
        if joined is None:
            raise Conflict(f"task {task_id} is no longer open (it was completed or the case moved on)")
        m = joined._mapping
        task = TaskRef(m["task_id"], m["id"], m["spec_id"], m["task_name"], m["role"], m["task_department"],
                       m["task_district"], m["assignee"])
        return task, self._logging(CaseRef.of(joined))

    def _logging(self, case: CaseRef) -> CaseRef:
        """Log lines written while this command runs name its case (engine.logs)."""
        if self._case_log is None:
            self._case_log = CASE_NUMBER.set(case.number)
        return case

    def deadlines(self) -> Deadlines:
        if self._deadlines is None:
            calendar = get_calendar(self.session, self.ctx.timezone, self.ctx.work_windows, max_age=1.0)
            self._deadlines = Deadlines(calendar, self.clock)
        return self._deadlines

    # --- the workflow -------------------------------------------------------------------------

    def load(self, case: CaseRef) -> Loaded:
        loaded = load_workflow(self.session, case)
        self._touched.append(loaded.key)
        return loaded

    def new(self, case: CaseRef, definition: definitions.LoadedDefinition) -> Loaded:
        """A fresh workflow for a case just inserted (start_case)."""
        from engine.ids import using_ids

        ids = IdSequence(case.number)
        with using_ids(ids):
            wf = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=SCRIPT_ENGINE)
        key = (self._db, case.id)
        self._touched.append(key)
        return Loaded(case, definition, wf, ids, key, snapshot(wf))

    def run(self, loaded: Loaded, outcome: Outcome, apply: Callable[[BpmnWorkflow], Any]) -> Outcome:
        """Apply a command's step with the frozen clock, the case's ids and the services installed."""
        log = ServiceLog()
        service_ctx = ServiceContext(_LazyDeadlines(self))
        try:
            step_workflow(loaded.workflow, self.clock, loaded.ids, log, service_ctx, apply)
        except WorkflowException as exc:
            raise ValidationError(f"the process could not continue: {exc}") from exc
        if log.calls:
            outcome.data["services"] = log.calls
        if service_ctx.outbox:
            outcome.data["outbox"] = service_ctx.outbox
        return outcome

    def discard(self, loaded: Loaded) -> None:
        """The command changed nothing worth keeping: forget the workflow it touched."""
        LIVE.evict(loaded.key)

    # --- writing ------------------------------------------------------------------------------

    def save(self, loaded: Loaded, outcome: Outcome, after: Snapshot | None = None) -> CaseResult:
        """Write state, projection, deadlines, the event and outbox rows; the version check first."""
        case, wf, w, now = loaded.case, loaded.workflow, self.writer, self.now
        after = after or snapshot(wf)
        status, outcome_name = case_status(wf, loaded.definition, after)
        ops = self._project_tasks(loaded, after)
        if after.timers != loaded.before.timers:
            ops.append((DELETE_DEADLINES, {"case_id": case.id}))
            ops.append((INSERT_DEADLINE, [{"case_id": case.id, "task_id": tid, "name": name, "due_at": w.time(due)}
                                          for tid, (name, due) in after.timers.items()]))
        ops.append((INSERT_OUTBOX, [{"case_id": case.id, "kind": m["kind"], "created_at": w.time(now),
                                     "payload": canonical_json({**m, "case": case.number})}
                                    for m in outcome.data.get("outbox", [])]))
        params = {"state": dump_state(wf, loaded.ids.counter), "new_version": case.version + 1,
                  "now": w.time(now), "status": status.value,
                  "department": after.data.get("department") or case.department_code, "outcome": outcome_name,
                  # closed when it became so (a callback after closing leaves it); an open case
                  # (a reopened one) has neither outcome nor closing time
                  "closed_at": w.time(now) if outcome_name and status != case.status else None,
                  "reopened": int(status in OPEN_STATUSES), "version": case.version}
        event = append_event(w, case.head, now, outcome.actor, outcome.kind, outcome.task_id, outcome.task_spec,
                             outcome.data, advance=UPDATE_CASE, params=params, then=ops,
                             algorithm=self.ctx.hash_alg)
        LIVE.put(loaded.key, LiveWorkflow(case.version + 1, event.hash, wf, loaded.ids.counter))
        return CaseResult(case.id, case.number, case.version + 1, status, event.seq)

    def annotate(self, case: CaseRef, actor: Actor, kind: str, task: TaskRef | None = None,
                 data: dict[str, Any] | None = None, advance: str = ADVANCE_HEAD,
                 params: dict[str, Any] | None = None) -> int:
        """A history event that leaves the workflow alone (claim, release, rating…); its seq."""
        task_id, spec = (task.id, task.spec_id) if task else (None, None)
        event = append_event(self.writer, case.head, self.now, actor.username, kind, task_id, spec, data or {},
                             advance=advance, params=params, algorithm=self.ctx.hash_alg)
        # The live workflow is unchanged, but its cache entry names the chain head: carry it forward.
        LIVE.move_head((self._db, case.id), case.version, case.last_hash, event.hash)
        return event.seq

    def _department_district(self, tdata: dict[str, Any]) -> str | None:
        """The district of the department the case is with (None: none yet, or a city-wide one)."""
        code = tdata.get("department")
        return department_districts(self.session).get(code) if isinstance(code, str) and code else None

    def _project_tasks(self, loaded: Loaded, after: Snapshot) -> list[tuple[str, Any]]:
        """The writes that keep the case's task rows equal to its READY user tasks (a diff, in memory)."""
        case, w, before = loaded.case, self.writer, loaded.before.ready
        ops: list[tuple[str, Any]] = [(DELETE_TASK, [{"id": tid} for tid in before.keys() - after.ready.keys()])]
        new = [after.ready[tid] for tid in after.ready.keys() - before.keys()]
        rows = []
        for task in sorted(new, key=lambda t: t.task_spec.bpmn_id):
            info = loaded.definition.user_tasks[task.task_spec.bpmn_id]
            tdata = task.data
            department = tdata.get("department") if info.lane in definitions.DEPARTMENT_LANES else None
            own = tdata.get(f"{info.spec_id}_deadline")
            warn_at: datetime | None
            due_at: datetime | None
            if isinstance(own, dict) and own.get("due_at"):
                warn_at, due_at = parse(own["warn_at"]), parse(own["due_at"])
                counted = own.get("calendar")
            elif tdata.get("step_hours"):
                warn_at, due_at = self.deadlines().step(float(tdata["step_hours"]), tdata.get("calendar"))
                counted = tdata.get("calendar")
            else:
                warn_at = due_at = counted = None
            crossing = self._department_district(tdata) if info.role in SUB_CENTER_ROLES else None
            district = task_district(info.role, case.district_code, crossing)
            rows.append({"id": str(task.id), "case_id": case.id, "spec_id": info.spec_id, "name": info.name,
                         "role": info.role, "department_code": department, "district_code": district,
                         "class_code": case.class_code, "source": case.source, "created_at": w.time(self.now),
                         "warn_at": w.time(warn_at), "due_at": w.time(due_at),
                         "natural_time": limit_calendar(counted) is LimitCalendar.NATURAL})
        if rows:
            ops.append((INSERT_TASK, rows))
        return ops

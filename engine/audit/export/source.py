"""The one reader every export format uses: selected cases with their exported events, streamed.

Cases are read in id order in chunks (keyset pagination: ``id > last`` … ``LIMIT n``), and the
events of a chunk's cases with one query ordered by (case, seq), so memory holds one chunk
whatever the size of the period — the same on SQLite and PostgreSQL.

Exported events are those that change workflow state: the report (start), every completed
task, every fired timer and every message (a leader's supervision order). Claims, releases,
ratings and corrections annotate history and are left out.

Where the fields come from (events carry bpmn ids and usernames only):
- activity name and role: the definition version the case ran on (see activities.py);
- department: the case's responsible department *at the time of the event*, i.e. the
  ``department`` of the latest dispatch form submitted before or with the event (the task
  projection that held it is deleted once a task completes). ``org_group`` is that department
  for tasks of the department lanes (handler, leader) and empty for the centres' lanes;
- a fired timer's bpmn id: the case's stored workflow state, which keeps every task by id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import definitions
from engine.audit.export.activities import Activities, Activity
from engine.audit.export.filters import ExportFilters
from engine.errors import CityCaseError
from engine.model import STATE_KINDS, EventKind
from engine.models import Case, DefinitionVersion, Event

# The events that change workflow state are the steps of the process; the others only annotate it.
EXPORTED_KINDS = tuple(sorted(STATE_KINDS))
CHUNK = 500
MERGED = Activity("merge", "合并为重复案卷", "acceptor", False)
REOPEN_ROUND = "Reopen_round"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportEvent:
    seq: int
    at: datetime
    kind: str
    activity: str  # the task's (or event's) name in the definition
    activity_id: str  # its bpmn id
    task_id: str | None
    actor: str
    role: str | None
    department: str | None  # the case's responsible department at that moment
    org_group: str | None  # the department when the task is one of the department's
    part: int = 0  # timers fired together share one history event: 0, 1, … within it

    def key(self, case_number: str) -> str:
        """A unique id of the exported event: case number, seq, and the part when a seq has several."""
        return f"{case_number}-{self.seq}" + (f".{self.part}" if self.part else "")


@dataclass
class ExportCase:
    id: int
    number: str
    source: str
    class_code: str
    urgency: str
    district_code: str
    street_code: str
    status: str
    outcome: str | None
    department_code: str | None
    created_at: datetime
    closed_at: datetime | None
    events: list[ExportEvent] = field(default_factory=list)


_CASE_COLUMNS = (Case.id, Case.number, Case.source, Case.class_code, Case.urgency, Case.district_code,
                 Case.street_code, Case.status, Case.outcome, Case.department_code, Case.created_at,
                 Case.closed_at, Case.definition_id, DefinitionVersion.sha256)


def count_cases(session: Session, filters: ExportFilters) -> int:
    return session.scalar(select(func.count(Case.id)).where(*filters.where())) or 0


class DamagedHistory(CityCaseError):
    """A case row or history row cannot be read (e.g. an unparsable timestamp): ``verify`` names it."""

    http_status = 409


def iter_cases(session: Session, filters: ExportFilters, progress: Progress | None = None,
               chunk: int = CHUNK) -> Iterator[ExportCase]:
    """Every selected case with its exported events, in case id order, events in seq order."""
    total = count_cases(session, filters) if progress else 0
    catalogs: dict[int, Activities] = {}
    done, last_id = 0, 0
    while True:
        rows, events = _read_chunk(session, filters, last_id, chunk)
        if not rows:
            break
        last_id = rows[-1].id
        timer_specs = _timer_specs(session, [cid for cid, evs in events.items()
                                             if any(e.kind == EventKind.TIMER for e in evs)])
        for r in rows:
            catalog = catalogs.get(r.definition_id)
            if catalog is None:
                catalog = catalogs[r.definition_id] = Activities(definitions.load(session, r.definition_id, r.sha256))
            case = ExportCase(r.id, r.number, r.source, r.class_code, r.urgency, r.district_code, r.street_code,
                              r.status, r.outcome, r.department_code, r.created_at, r.closed_at)
            case.events = list(_export_events(events.get(r.id, []), catalog, timer_specs))
            yield case
        done += len(rows)
        if progress:
            progress(done, total)
        session.expunge_all()  # keep the identity map from growing with a long export


def _read_chunk(session: Session, filters: ExportFilters, last_id: int,
                chunk: int) -> tuple[Sequence[Any], dict[int, list[Any]]]:
    """The next ``chunk`` cases after ``last_id`` and their exported events."""
    query = (select(*_CASE_COLUMNS).join(DefinitionVersion, DefinitionVersion.id == Case.definition_id)
             .where(*filters.where(), Case.id > last_id).order_by(Case.id))
    try:
        rows = session.execute(query.limit(chunk)).all()
        return rows, _events_by_case(session, [r.id for r in rows])
    except ValueError as exc:  # the column types refuse what a damaged row holds
        damaged = _first_damaged(session, query, chunk)
        raise DamagedHistory(f"case {damaged} cannot be read ({exc}); its history is damaged — "
                             f"run `citycase verify --case {damaged}`; nothing was exported") from None


def _first_damaged(session: Session, query: Any, chunk: int) -> str:
    """The number of the first case of the chunk whose row or events cannot be read (error path only)."""
    ids = list(session.scalars(select(Case.id).where(Case.id.in_(query.with_only_columns(Case.id).limit(chunk)
                                                                  .scalar_subquery())).order_by(Case.id)))
    for case_id in ids:
        try:
            session.execute(query.where(Case.id == case_id)).all()
            _events_by_case(session, [case_id])
        except ValueError:
            return session.scalar(select(Case.number).where(Case.id == case_id)) or f"id {case_id}"
    return "?"


def _events_by_case(session: Session, case_ids: list[int]) -> dict[int, list[Any]]:
    rows = session.execute(select(Event.case_id, Event.seq, Event.at, Event.actor, Event.kind, Event.task_id,
                                  Event.task_spec, Event.data)
                           .where(Event.case_id.in_(case_ids), Event.kind.in_(EXPORTED_KINDS))
                           .order_by(Event.case_id, Event.seq))
    out: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        out[row.case_id].append(row)
    return out


def _timer_specs(session: Session, case_ids: list[int]) -> dict[str, str]:
    """Fired timer task id → its bpmn id, from the stored workflow states of these cases."""
    out: dict[str, str] = {}
    if not case_ids:
        return out
    for (state,) in session.execute(select(Case.state).where(Case.id.in_(case_ids))):
        try:
            doc = orjson.loads(state)
        except orjson.JSONDecodeError:
            continue  # a damaged state is verify's business; the timer is exported unnamed
        for tasks in [doc.get("tasks", {}), *(sub.get("tasks", {}) for sub in doc.get("subprocesses", {}).values())]:
            for tid, task in tasks.items():
                out[tid] = task.get("task_spec", "")
    return out


def _load_data(raw: str) -> dict[str, Any]:
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _export_events(rows: list[Any], catalog: Activities, timer_specs: dict[str, str]) -> Iterator[ExportEvent]:
    department: str | None = None
    for row in rows:
        if row.kind == EventKind.START:
            yield _event(row, catalog.start, row.task_id, department)  # its (large) data is not needed
            continue
        data = _load_data(row.data)
        if row.kind == EventKind.TIMER:
            # One exported event per fired timer (a late scheduler may fire warning and overdue at once).
            for part, task_id in enumerate(data.get("fired") or [None]):
                activity = catalog.task(timer_specs.get(task_id or "") or None)
                yield _event(row, activity, task_id, department, part)
            continue
        if row.kind == EventKind.COMPLETE:
            activity = catalog.task(row.task_spec)
            form = data.get("form")
            if isinstance(form, dict) and isinstance(form.get("department"), str):
                department = form["department"]  # a dispatch (or re-dispatch) sets the responsible department
        elif row.kind == EventKind.MERGE:
            activity = MERGED  # the duplicate's last step: merged into its original
        elif row.kind == EventKind.REOPEN:
            activity = catalog.task(REOPEN_ROUND)  # the BPMN's new-round event
        else:
            activity = catalog.message(data.get("message"))
        yield _event(row, activity, row.task_id, department)


def _event(row: Any, activity: Activity, task_id: str | None, department: str | None, part: int = 0) -> ExportEvent:
    return ExportEvent(row.seq, row.at, row.kind, activity.name, activity.bpmn_id, task_id, row.actor,
                       activity.role, department, department if activity.department_lane else None, part)

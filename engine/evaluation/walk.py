"""One case's history, read event by event, turned into what it counts for in a period.

Only the history events are read (the start event's ``report``, the ``form`` of complete events
by task spec, the deadlines the services recorded, rating events), never the case row, so a
number can be recomputed later from the same events and explained case by case.

Deadlines: every step deadline the engine computed is recorded in the ``services`` of the event
that opened the step (``step_deadline`` for verify … close, ``start_deadline`` when the case is
dispatched or sent back for rework, ``extend_deadline`` / ``suspend_deadline`` /
``resume_deadline`` when the handling deadline moves). A step is on time when it completed at or
before the deadline in force. Suspension (挂账) moves the handling deadline on resume by the
working time spent suspended (engine/deadlines.py), and a suspended case is not overdue, so
suspended time never counts against a department.

A contribution is (kind, unit, metric); a case contributes each at most once per period.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.evaluation.metrics import REGION_KINDS, Kind, Metric
from engine.model import CALLBACK_TASK, EventKind, Source

M = Metric
Contribution = tuple[Kind, str, Metric]
SATISFIED_FROM = 4  # ratings 4 and 5 count as satisfied


@dataclass(frozen=True)
class EventRow:
    """The columns of an event the evaluation reads (data already parsed)."""

    case_id: int
    at: datetime
    actor: str
    kind: str
    task_spec: str | None
    data: dict[str, Any]


@dataclass
class CaseWalk:
    """The state of one case while its events are read in order, and what it contributed."""

    start: datetime
    end: datetime
    case_id: int = 0
    regions: dict[Kind, str] = field(default_factory=dict)
    source: str = ""
    reported_in_period: bool = False
    reporter: str = ""
    supervisor: str | None = None  # who answers for the case's grid: the reporter or the verifier
    department: str | None = None
    dispatcher: str | None = None
    proposed: tuple[str, str] | None = None  # (acceptor, decision)
    step_due: datetime | None = None
    handle_due: datetime | None = None
    handle_pending: bool = False
    suspended: bool = False
    late_handle: bool = False
    valid: bool = False
    finished: bool = False
    out: set[Contribution] = field(default_factory=set)

    def _in(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def region(self, at: datetime, metric: Metric) -> None:
        if self._in(at):
            for kind, code in self.regions.items():
                if code:
                    self.out.add((kind, code, metric))

    def unit(self, at: datetime, kind: Kind, key: str | None, metric: Metric) -> None:
        if key and self._in(at):
            self.out.add((kind, key, metric))

    def on_time(self, at: datetime, due: datetime | None) -> bool:
        return due is None or at <= due


def _deadline(data: dict[str, Any], op: str) -> datetime | None:
    found = None
    for service in data.get("services") or ():
        if service.get("op") == op and isinstance(service.get("result"), dict):
            found = datetime.fromisoformat(service["result"]["due_at"])
    return found


def _start(w: CaseWalk, e: EventRow) -> None:
    report = e.data.get("report") or {}
    initial = e.data.get("initial") or {}
    w.regions = {Kind.DISTRICT: report.get("district_code") or initial.get("district_code") or "",
                 Kind.STREET: report.get("street_code") or initial.get("street_code") or "",
                 Kind.COMMUNITY: report.get("community_code") or "",
                 Kind.GRID: report.get("grid_code") or initial.get("grid_code") or ""}
    w.source = report.get("source") or initial.get("source") or ""
    w.reporter = e.actor
    w.reported_in_period = w._in(e.at)
    if w.source == Source.SUPERVISOR:
        w.supervisor = e.actor
        w.unit(e.at, Kind.SUPERVISOR, e.actor, M.REPORTED)
    w.region(e.at, M.REPORTED)


def _filed(w: CaseWalk, e: EventRow) -> None:
    w.valid = True
    w.region(e.at, M.FILED)
    w.unit(e.at, Kind.SUPERVISOR, w.supervisor, M.FILED)
    by = M.SUPERVISOR_FILED if w.source == Source.SUPERVISOR else M.PUBLIC_FILED
    w.region(e.at, by)
    w.unit(e.at, Kind.SUPERVISOR, w.supervisor, by)


def _verify(w: CaseWalk, e: EventRow, form: dict[str, Any]) -> None:
    if w.supervisor is None:
        w.supervisor = e.actor
    w.unit(e.at, Kind.SUPERVISOR, e.actor, M.VERIFIED)
    if w.on_time(e.at, w.step_due):
        w.unit(e.at, Kind.SUPERVISOR, e.actor, M.VERIFIED_ON_TIME)
    w.region(e.at, M.VERIFIED)
    if form.get("verdict") != "confirmed":
        w.finished = True


def _accept(w: CaseWalk, e: EventRow, form: dict[str, Any]) -> None:
    w.proposed = (e.actor, str(form.get("decision") or ""))
    w.unit(e.at, Kind.ACCEPTOR, e.actor, M.ACCEPTED)
    if w.on_time(e.at, w.step_due):
        w.unit(e.at, Kind.ACCEPTOR, e.actor, M.ACCEPTED_ON_TIME)


def _file(w: CaseWalk, e: EventRow, form: dict[str, Any]) -> None:
    decision = form.get("decision")
    if w.proposed is not None and w.proposed[1] == decision:
        w.unit(e.at, Kind.ACCEPTOR, w.proposed[0], M.ACCEPT_AGREED)
    if w.on_time(e.at, w.step_due):
        w.unit(e.at, Kind.SHIFT_LEADER, e.actor, M.FILED_ON_TIME)
    if decision == "void":
        w.finished = True
        w.region(e.at, M.VOIDED)
        w.unit(e.at, Kind.SHIFT_LEADER, e.actor, M.VOIDED)
        return
    _filed(w, e)
    w.unit(e.at, Kind.SHIFT_LEADER, e.actor, M.FILED)


def _self_handled(w: CaseWalk, e: EventRow, form: dict[str, Any]) -> None:
    if form.get("decision") != "close":
        return
    # 自处理: filed and closed at once, on time by definition.
    w.finished = True
    _filed(w, e)
    for metric in (M.CLOSED, M.CLOSED_ON_TIME):
        w.region(e.at, metric)
    w.unit(e.at, Kind.SHIFT_LEADER, e.actor, M.FILED)
    w.unit(e.at, Kind.SHIFT_LEADER, e.actor, M.FILED_ON_TIME)  # confirming has no time limit


def _dispatch(w: CaseWalk, e: EventRow, form: dict[str, Any]) -> None:
    w.department = str(form.get("department") or "") or None
    w.dispatcher = e.actor
    w.unit(e.at, Kind.DISPATCHER, e.actor, M.DISPATCHED)
    if w.on_time(e.at, w.step_due):
        w.unit(e.at, Kind.DISPATCHER, e.actor, M.DISPATCHED_ON_TIME)
    w.unit(e.at, Kind.DEPARTMENT, w.department, M.DISPATCHED)
    w.region(e.at, M.DISPATCHED)
    w.handle_due = _deadline(e.data, "start_deadline") or w.handle_due
    w.handle_pending = True


def _handle(w: CaseWalk, e: EventRow, form: dict[str, Any]) -> None:
    if form.get("outcome") != "done":
        return  # a request (return, extension, suspension) counts when it is approved
    w.handle_pending = False
    on_time = w.on_time(e.at, w.handle_due)
    w.late_handle = w.late_handle or not on_time
    if (Kind.DEPARTMENT, w.department or "", M.HANDLED) in w.out:
        return  # the department's first handling in the period counts
    w.unit(e.at, Kind.DEPARTMENT, w.department, M.HANDLED)
    w.region(e.at, M.HANDLED)
    if on_time:
        w.unit(e.at, Kind.DEPARTMENT, w.department, M.HANDLED_ON_TIME)
        w.region(e.at, M.HANDLED_ON_TIME)


def _approval(w: CaseWalk, e: EventRow, spec: str, form: dict[str, Any]) -> None:
    if form.get("decision") != "approve":
        return
    if spec == "approve_return":
        w.unit(e.at, Kind.DEPARTMENT, w.department, M.RETURNED)
        w.unit(e.at, Kind.DISPATCHER, w.dispatcher, M.RETURNED)
        w.region(e.at, M.RETURNED)
        w.handle_pending = False
    elif spec == "approve_extension":
        w.handle_due = _deadline(e.data, "extend_deadline") or w.handle_due
    elif spec == "approve_suspension":
        w.suspended = True
        w.unit(e.at, Kind.DEPARTMENT, w.department, M.SUSPENDED)
        w.region(e.at, M.SUSPENDED)


def _check(w: CaseWalk, e: EventRow, form: dict[str, Any]) -> None:
    w.unit(e.at, Kind.SUPERVISOR, e.actor, M.CHECKED)
    if w.on_time(e.at, w.step_due):
        w.unit(e.at, Kind.SUPERVISOR, e.actor, M.CHECKED_ON_TIME)
    if form.get("verdict") == "passed":
        return
    w.unit(e.at, Kind.DEPARTMENT, w.department, M.REWORKED)
    w.region(e.at, M.REWORKED)
    w.handle_due = _deadline(e.data, "start_deadline") or w.handle_due
    w.handle_pending = True


def _close(w: CaseWalk, e: EventRow) -> None:
    w.finished = True
    metrics = [M.CLOSED] if w.late_handle else [M.CLOSED, M.CLOSED_ON_TIME]
    for metric in metrics:
        w.region(e.at, metric)
        w.unit(e.at, Kind.DEPARTMENT, w.department, metric)
    w.unit(e.at, Kind.SHIFT_LEADER, e.actor, M.CLOSED)
    if w.on_time(e.at, w.step_due):
        w.unit(e.at, Kind.SHIFT_LEADER, e.actor, M.CLOSE_STEP_ON_TIME)


def _complete(w: CaseWalk, e: EventRow) -> None:
    form = e.data.get("form") or {}
    spec = e.task_spec or ""
    if spec == "verify":
        _verify(w, e, form)
    elif spec == "confirm_self_handled":
        _self_handled(w, e, form)
    elif spec == "accept":
        _accept(w, e, form)
    elif spec == "file":
        _file(w, e, form)
    elif spec == "dispatch":
        _dispatch(w, e, form)
    elif spec == "handle":
        _handle(w, e, form)
    elif spec in ("approve_return", "approve_extension", "approve_suspension"):
        _approval(w, e, spec, form)
    elif spec == "resume":
        w.suspended = False
        w.handle_due = _deadline(e.data, "resume_deadline") or w.handle_due
    elif spec == "check":
        _check(w, e, form)
    elif spec == "close":
        _close(w, e)
    elif spec == CALLBACK_TASK:
        _callback(w, e, form)


def _callback(w: CaseWalk, e: EventRow, form: dict[str, Any]) -> None:
    """回访: counted for the region and the department that handled the case."""
    metrics = [M.CALLED_BACK]
    if form.get("satisfaction") in ("satisfied", "basically"):
        metrics.append(M.CALLBACK_SATISFIED)
    for metric in metrics:
        w.region(e.at, metric)
        w.unit(e.at, Kind.DEPARTMENT, w.department, metric)
    if form.get("reopen"):
        _reopened(w, e)


def _reopened(w: CaseWalk, e: EventRow) -> None:
    """A new handling round of a closed case: counted against the department that closed it."""
    w.finished = False
    w.region(e.at, M.REOPENED)
    w.unit(e.at, Kind.DEPARTMENT, w.department, M.REOPENED)


_NOT_FOR_DUPLICATES = (M.FILED, M.PUBLIC_FILED, M.SUPERVISOR_FILED)


def _merged(w: CaseWalk, e: EventRow) -> None:
    """A duplicate merged into its original: counted as a duplicate, never as filed (so not a
    miss, 漏报), closed or overdue; the original counts for the problem."""
    w.finished = True
    w.valid = False
    w.handle_pending = False
    w.out = {c for c in w.out if c[2] not in _NOT_FOR_DUPLICATES}
    w.region(e.at, M.DUPLICATE)


_PLACE = {Kind.DISTRICT: "district_code", Kind.STREET: "street_code", Kind.COMMUNITY: "community_code",
          Kind.GRID: "grid_code"}


def _correction(w: CaseWalk, e: EventRow) -> None:
    """A corrected place (engine.commands.correct): what happens from now on counts for the new
    region; what happened before stays where it happened."""
    changes = e.data.get("changes") or {}
    for kind, column in _PLACE.items():
        if changes.get(column):
            w.regions[kind] = str(changes[column])


def _rating(w: CaseWalk, e: EventRow) -> None:
    metrics = [M.RATED]
    rating = e.data.get("rating")
    if isinstance(rating, int) and rating >= SATISFIED_FROM:
        metrics.append(M.SATISFIED)
    for metric in metrics:
        w.region(e.at, metric)
        w.unit(e.at, Kind.DEPARTMENT, w.department, metric)


def walk_case(events: Iterable[EventRow], start: datetime, end: datetime) -> set[Contribution]:
    """What one case (its events before ``end``, in seq order) counts for in [start, end)."""
    w = CaseWalk(start, end)
    for e in events:
        if e.at >= end:
            break
        if e.kind == EventKind.START:
            w.case_id = e.case_id
            _start(w, e)
        elif e.kind == EventKind.COMPLETE:
            _complete(w, e)
        elif e.kind == EventKind.RATING:
            _rating(w, e)
        elif e.kind == EventKind.CORRECTION:
            _correction(w, e)
        elif e.kind == EventKind.MERGE:
            _merged(w, e)
        elif e.kind == EventKind.REOPEN:
            _reopened(w, e)
        step_due = _deadline(e.data, "step_deadline")
        if step_due is not None:
            w.step_due = step_due
    if w.reported_in_period and w.valid:
        for kind in REGION_KINDS:
            if w.regions.get(kind):
                w.out.add((kind, w.regions[kind], M.VALID))
        if w.source == Source.SUPERVISOR and w.reporter:
            w.out.add((Kind.SUPERVISOR, w.reporter, M.VALID))
    overdue = (not w.finished and w.handle_pending and not w.suspended and w.handle_due is not None
               and w.handle_due < end)
    if overdue:
        # Judged at the period's end, so it counts in the period whatever the deadline's date.
        for kind in REGION_KINDS:
            if w.regions.get(kind):
                w.out.add((kind, w.regions[kind], M.OVERDUE))
        if w.department:
            w.out.add((Kind.DEPARTMENT, w.department, M.OVERDUE))
    return w.out


__all__ = ["Contribution", "EventRow", "SATISFIED_FROM", "walk_case"]

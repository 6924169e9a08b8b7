"""The typed rows the read side returns: a task with its case's headline, a case record, a history
event. Each comes with the columns its SELECT reads, so every query builds the same shape."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import Label

from engine.model import Light
from engine.models import Case, Event, ProblemClass, TaskRow, User
from engine.queries.lights import light


@dataclass(frozen=True)
class TaskItem:
    """An open task (a READY user task's projection row) with what lists show of its case."""

    id: str
    case_id: int
    spec_id: str
    name: str
    role: str
    department_code: str | None
    district_code: str
    class_code: str
    source: str
    assignee: str | None
    created_at: datetime
    warn_at: datetime | None
    due_at: datetime | None
    number: str
    urgency: str
    street_code: str
    grid_code: str
    address: str
    case_created_at: datetime
    class_name: str
    class_name_en: str
    natural_time: bool = False  # the deadline counts every minute (emergencies)

    def light_at(self, at: datetime) -> Light:
        return light(self.warn_at, self.due_at, at)


TASK_COLUMNS: tuple[QueryableAttribute[Any] | Label[Any], ...] = (
    TaskRow.id, TaskRow.case_id, TaskRow.spec_id, TaskRow.name, TaskRow.role, TaskRow.department_code,
    TaskRow.district_code, TaskRow.class_code, TaskRow.source, TaskRow.assignee, TaskRow.created_at,
    TaskRow.warn_at, TaskRow.due_at, Case.number, Case.urgency, Case.street_code, Case.grid_code, Case.address,
    Case.created_at.label("case_created_at"), ProblemClass.name.label("class_name"),
    func.coalesce(ProblemClass.name_en, "").label("class_name_en"), TaskRow.natural_time)


@dataclass(frozen=True)
class CaseRecord:
    """A case as staff see it: never the workflow state, the follow-up token or the reporter's salt."""

    id: int
    number: str
    definition_id: int
    status: str
    outcome: str | None
    source: str
    class_code: str
    class_name: str
    class_name_en: str
    major_name: str
    urgency: str
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    lon: float
    lat: float
    address: str
    description: str
    component_id: str | None
    department_code: str | None
    reporter: str
    rating: int | None
    rating_note: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int


CASE_COLUMNS: tuple[QueryableAttribute[Any] | Label[Any], ...] = (
    Case.id, Case.number, Case.definition_id, Case.status, Case.outcome, Case.source, Case.class_code,
    ProblemClass.name.label("class_name"), ProblemClass.name_en.label("class_name_en"), ProblemClass.major_name,
    Case.urgency, Case.grid_code, Case.community_code, Case.street_code, Case.district_code, Case.lon, Case.lat,
    Case.address, Case.description, Case.component_id, Case.department_code, Case.reporter, Case.rating,
    Case.rating_note, Case.created_at, Case.updated_at, Case.closed_at, Case.version)


@dataclass(frozen=True)
class HistoryEvent:
    """One event of a case's hash-chained history, its data parsed (``{}`` if unreadable)."""

    seq: int
    at: datetime
    actor: str
    actor_name: str  # the user's display name, else the actor as recorded
    kind: str
    task_id: str | None
    task_spec: str | None
    data: dict[str, Any]
    hash: str


EVENT_COLUMNS: tuple[QueryableAttribute[Any] | Label[Any], ...] = (
    Event.seq, Event.at, Event.actor, User.display_name, Event.kind, Event.task_id, Event.task_spec, Event.data,
    Event.hash)


def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


_CASE_FIELDS = _names(CaseRecord)


def task_item(row: Any) -> TaskItem:
    """A row of TASK_COLUMNS (same order as TaskItem's fields: positional is the fast path for
    inbox pages)."""
    return TaskItem(*row)


def case_record(row: Any) -> CaseRecord:
    m = row._mapping
    values = {name: m[name] for name in _CASE_FIELDS}
    values["class_name"] = values["class_name"] or values["class_code"]
    values["class_name_en"] = values["class_name_en"] or ""
    values["major_name"] = values["major_name"] or ""
    return CaseRecord(**values)


def history_event(row: Any) -> HistoryEvent:
    try:
        data = orjson.loads(row.data) if row.data else {}
    except orjson.JSONDecodeError:
        data = {}
    return HistoryEvent(row.seq, row.at, row.actor, row.display_name or row.actor, row.kind, row.task_id,
                        row.task_spec, data if isinstance(data, dict) else {}, row.hash)


__all__ = ["TaskItem", "CaseRecord", "HistoryEvent", "TASK_COLUMNS", "CASE_COLUMNS", "EVENT_COLUMNS",
           "task_item", "case_record", "history_event"]

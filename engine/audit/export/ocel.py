"""OCEL 2.0 (JSON): object-centric event logs with cases, tasks and departments as objects.

Every exported event relates (e2o) to its case ("case"), to its task instance when it completes
a user task ("task") and to the case's responsible department at that time ("department").
Objects: one per case (its codes as attributes, related to its current department), one per
completed task instance (its name and bpmn id, related to its case) and one per department met.

OCEL's JSON puts objects before events, but both lists grow with the number of cases; so the
events and the case/task objects are written to two spooled temporary files while the reader
streams, and only the small sets (departments, event types) stay in memory. The document is
then assembled by copying those files into the output.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from typing import IO, Any, BinaryIO

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit.export.source import ExportCase, ExportEvent
from engine.model import EventKind
from engine.models import Department

STATIC_TIME = "1970-01-01T00:00:00Z"  # OCEL's time of attribute values that never change
CASE_ATTRIBUTES = ("class", "urgency", "district", "street", "source", "status", "outcome", "department")
EVENT_ATTRIBUTES = (("seq", "integer"), ("kind", "string"), ("task", "string"), ("resource", "string"),
                    ("role", "string"), ("department", "string"))
SPOOL_BYTES = 8 * 1024 * 1024


def case_id(number: str) -> str:
    return f"case:{number}"


def task_id(tid: str) -> str:
    return f"task:{tid}"


def department_id(code: str) -> str:
    return f"department:{code}"


def _time(at) -> str:
    return at.isoformat(timespec="milliseconds")


class _JsonArray:
    """Items of a JSON array, comma-separated, into a file."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.count = out, 0

    def add(self, item: dict[str, Any]) -> None:
        self.out.write((b",\n" if self.count else b"\n") + orjson.dumps(item))
        self.count += 1


def _case_object(case: ExportCase) -> dict[str, Any]:
    values = (case.class_code, case.urgency, case.district_code, case.street_code, case.source, case.status,
              case.outcome, case.department_code)
    obj: dict[str, Any] = {"id": case_id(case.number), "type": "case", "attributes": [
        {"name": name, "time": STATIC_TIME, "value": value}
        for name, value in zip(CASE_ATTRIBUTES, values, strict=True) if value is not None]}
    if case.department_code:
        obj["relationships"] = [{"objectId": department_id(case.department_code), "qualifier": "responsible"}]
    return obj


def _event(case: ExportCase, e: ExportEvent) -> dict[str, Any]:
    rel = [{"objectId": case_id(case.number), "qualifier": "case"}]
    if e.kind == EventKind.COMPLETE and e.task_id:
        rel.append({"objectId": task_id(e.task_id), "qualifier": "task"})
    if e.department:
        rel.append({"objectId": department_id(e.department), "qualifier": "department"})
    values = (e.seq, e.kind, e.activity_id, e.actor, e.role, e.department)
    return {"id": e.key(case.number), "type": e.activity, "time": _time(e.at),
            "attributes": [{"name": name, "value": value}
                           for (name, _), value in zip(EVENT_ATTRIBUTES, values, strict=True) if value is not None],
            "relationships": rel}


def write_ocel(session: Session, cases: Iterable[ExportCase], out: BinaryIO) -> tuple[int, int, int]:
    """Write the OCEL 2.0 JSON document; returns (cases, events, objects)."""
    departments: set[str] = set()
    event_types: set[str] = set()
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as obj_file, tempfile.SpooledTemporaryFile(SPOOL_BYTES) as ev_file:
        objects, events = _JsonArray(obj_file), _JsonArray(ev_file)
        n_cases = 0
        for case in cases:
            n_cases += 1
            objects.add(_case_object(case))
            if case.department_code:
                departments.add(case.department_code)
            for e in case.events:
                event_types.add(e.activity)
                if e.department:
                    departments.add(e.department)
                if e.kind == EventKind.COMPLETE and e.task_id:
                    objects.add({"id": task_id(e.task_id), "type": "task",
                                 "attributes": [{"name": "name", "time": STATIC_TIME, "value": e.activity},
                                                {"name": "spec", "time": STATIC_TIME, "value": e.activity_id}],
                                 "relationships": [{"objectId": case_id(case.number), "qualifier": "part of"}]})
                events.add(_event(case, e))
        names = dict(session.execute(select(Department.code, Department.name)
                                     .where(Department.code.in_(departments))).all()) if departments else {}
        for code in sorted(departments):
            objects.add({"id": department_id(code), "type": "department",
                         "attributes": [{"name": "name", "time": STATIC_TIME, "value": names.get(code, code)}]})
        _assemble(out, sorted(event_types), obj_file, ev_file)
        return n_cases, events.count, objects.count


def _assemble(out: BinaryIO, event_types: list[str], obj_file: IO[bytes], ev_file: IO[bytes]) -> None:
    head = {
        "objectTypes": [
            {"name": "case", "attributes": [{"name": n, "type": "string"} for n in CASE_ATTRIBUTES]},
            {"name": "task", "attributes": [{"name": "name", "type": "string"}, {"name": "spec", "type": "string"}]},
            {"name": "department", "attributes": [{"name": "name", "type": "string"}]},
        ],
        "eventTypes": [{"name": t, "attributes": [{"name": n, "type": ty} for n, ty in EVENT_ATTRIBUTES]}
                       for t in event_types],
    }
    out.write(orjson.dumps(head)[:-1] + b',\n"objects":[')
    obj_file.seek(0)
    shutil.copyfileobj(obj_file, out)
    out.write(b'\n],\n"events":[')
    ev_file.seek(0)
    shutil.copyfileobj(ev_file, out)
    out.write(b"\n]}\n")

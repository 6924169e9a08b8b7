"""Test factories: actors for every role, reports, and a driver that walks a case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.commands import complete_task, start_case
from engine.model import Actor, EngineContext
from engine.models import Case, TaskRow

SUPERVISOR = Actor("supervisor1", "supervisor", None, "330191")
ACCEPTOR = Actor("acceptor1", "acceptor", "supervision_center")
SHIFT_LEADER = Actor("shiftleader1", "shift_leader", "supervision_center")
DISPATCHER = Actor("dispatcher1", "dispatcher", "command_center")
CITIZEN = Actor("citizen", "citizen")


def handler_of(department: str) -> Actor:
    return Actor(f"handler_{department.replace('@', '_')}", "handler", department)


def leader_of(department: str) -> Actor:
    return Actor(f"leader_{department.replace('@', '_')}", "leader", department)


def actor_for(row: TaskRow) -> Actor:
    by_role = {"supervisor": SUPERVISOR, "acceptor": ACCEPTOR, "shift_leader": SHIFT_LEADER,
               "dispatcher": DISPATCHER}
    if row.role == "handler":
        return handler_of(row.department_code)
    if row.role == "leader":
        return leader_of(row.department_code)
    actor = by_role[row.role]
    if row.role == "supervisor":
        return Actor(actor.username, actor.role, None, row.district_code)
    return actor


def report(city: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    lon, lat = city["center"]
    data = {"source": "citizen", "class_code": "E0102", "lon": lon, "lat": lat,
            "description": "路边暴露垃圾 exposed rubbish", "address": "演示路 1 号"}
    data.update(overrides)
    return data


def open_tasks(session, case_id: int) -> list[TaskRow]:
    return list(session.scalars(select(TaskRow).where(TaskRow.case_id == case_id).order_by(TaskRow.spec_id)))


def task_of(session, case_id: int, spec_id: str) -> TaskRow:
    rows = [t for t in open_tasks(session, case_id) if t.spec_id == spec_id]
    assert rows, f"no open {spec_id} task; open: {[t.spec_id for t in open_tasks(session, case_id)]}"
    return rows[0]


class CaseDriver:
    """Walks one case through the engine, one committed command at a time."""

    def __init__(self, db, ctx: EngineContext) -> None:
        self.db = db
        self.ctx = ctx
        self.case_id: int | None = None

    def start(self, **overrides: Any) -> dict[str, Any]:
        with self.db.session() as s:
            result = start_case(s, self.ctx, report(self.db.city, **overrides), CITIZEN)
        self.case_id = result.case_id
        return result

    def do(self, spec_id: str, data: dict[str, Any] | None = None, actor: Actor | None = None) -> dict[str, Any]:
        with self.db.session() as s:
            row = task_of(s, self.case_id, spec_id)
            return complete_task(s, self.ctx, row.id, actor or actor_for(row), data or {})

    def tasks(self) -> list[str]:
        with self.db.session() as s:
            return sorted(t.spec_id for t in open_tasks(s, self.case_id))

    def case(self) -> Case:
        with self.db.session() as s:
            return s.get(Case, self.case_id)

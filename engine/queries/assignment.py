"""What a department leader needs to assign work: the department's open tasks (``department_tasks``)
and the people who may take each of them (``assignable_people``). The rule of who may assign
is ``visibility.assign_refusal``; the command is ``engine.commands.assign``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.model import Actor
from engine.models import Case, ProblemClass, TaskRow, User
from engine.queries.records import TASK_COLUMNS, TaskItem, task_item
from engine.queries.visibility import assignable_filter

DEPARTMENT_PAGE = 200  # a unit's open tasks fit one page; more are shown by the inbox filters


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str
    role: str


def department_tasks(session: Session, actor: Actor, limit: int = DEPARTMENT_PAGE) -> list[TaskItem]:
    """The open tasks the actor may assign (held or not), soonest deadline first."""
    stmt = (select(*TASK_COLUMNS)
            .join(Case, Case.id == TaskRow.case_id)
            .join(ProblemClass, ProblemClass.code == Case.class_code)
            .where(assignable_filter(actor))
            .order_by(TaskRow.due_at.asc().nulls_last(), TaskRow.id.asc())
            .limit(limit))
    return [task_item(r) for r in session.execute(stmt)]


def assignable_people(session: Session, department: str | None) -> dict[str, list[Person]]:
    """The department's active users by role (a task goes to a person with the task's role)."""
    if department is None:
        return {}
    rows = session.execute(select(User.username, User.display_name, User.role)
                           .where(User.department_code == department, User.active.is_(True))
                           .order_by(User.role, User.username))
    people: dict[str, list[Person]] = {}
    for r in rows:
        people.setdefault(r.role, []).append(Person(r.username, r.display_name, r.role))
    return people


def display_names(session: Session, usernames: set[str]) -> dict[str, str]:
    """Display names of users (a history shows "派给 张三", not an account name)."""
    names = {u for u in usernames if u}
    if not names:
        return {}
    return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(names))).all())


__all__ = ["Person", "department_tasks", "assignable_people", "display_names", "DEPARTMENT_PAGE"]

"""Open tasks: the inbox and API listing (``visible_tasks``), one task (``task_view``).

Listings read only the task projection joined with its case and class, never a workflow. They
are sorted by due time (tasks without a deadline last), then task id, and continue after the
last row's ``Cursor(due_at, id)``, so a page costs the same however deep it is and the
``(role, department_code|district_code|assignee, due_at, id)`` indexes serve it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine import definitions
from engine.errors import NotFound
from engine.forms import FormSpec
from engine.model import Actor, Light
from engine.models import Case, ProblemClass, TaskRow
from engine.queries.cases import load_case
from engine.queries.cursor import Cursor
from engine.queries.lights import light_conditions
from engine.queries.records import TASK_COLUMNS, CaseRecord, TaskItem, task_item
from engine.queries.visibility import check_task_permission, check_task_visible, task_visibility_filter

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class Tab(StrEnum):
    """Which of the visible tasks: claimed by me, unclaimed (my group's queue), or both."""

    MINE = "mine"
    GROUP = "group"
    ALL = "all"


class TaskSort(StrEnum):
    """The order of a task listing: by deadline (soonest first, none last), or by the case's report
    time (oldest or newest first). Each sorts by (an instant, task id), the one cursor's shape."""

    DUE = "due"
    OLDEST = "oldest"
    NEWEST = "newest"


@dataclass(frozen=True)
class TaskFilters:
    """Narrowing of a task listing; None means any. ``created_from``/``created_before`` bound the
    case's report time (the caller turns local dates into instants, see ``periods.local_days``)."""

    tab: Tab = Tab.ALL
    class_code: str | None = None
    district: str | None = None
    street: str | None = None
    grid: str | None = None
    light: Light | None = None
    source: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    sort: TaskSort = TaskSort.DUE

    def needs_case(self) -> bool:
        """Whether the filters read the case row (the counts then join it)."""
        return any(v is not None for v in (self.street, self.grid, self.created_from, self.created_before))


@dataclass(frozen=True)
class TaskPage:
    items: list[TaskItem]
    next: Cursor | None  # None on the last page
    counts: dict[Light, int] | None  # per light, same filters without the light one (when asked)

    @property
    def total(self) -> int:
        return sum((self.counts or {}).values())


def _conditions(actor: Actor, f: TaskFilters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [task_visibility_filter(actor)]
    if f.tab == Tab.MINE:
        conds.append(TaskRow.assignee == actor.username)
    elif f.tab == Tab.GROUP:
        conds.append(TaskRow.assignee.is_(None))
    else:
        conds.append(or_(TaskRow.assignee.is_(None), TaskRow.assignee == actor.username))
    for column, value in ((TaskRow.class_code, f.class_code), (TaskRow.district_code, f.district),
                          (TaskRow.source, f.source), (Case.street_code, f.street), (Case.grid_code, f.grid)):
        if value is not None:
            conds.append(column == value)
    if f.created_from is not None:
        conds.append(Case.created_at >= f.created_from)
    if f.created_before is not None:
        conds.append(Case.created_at < f.created_before)
    return conds


def _after(cursor: Cursor, sort: TaskSort = TaskSort.DUE) -> ColumnElement[bool]:
    """Rows after ``cursor`` in the listing's order ((due_at NULLS LAST, id) by default)."""
    if sort != TaskSort.DUE:
        at = cursor.at if cursor.at is not None else datetime.min.replace(tzinfo=UTC)
        if sort == TaskSort.OLDEST:
            return or_(Case.created_at > at, and_(Case.created_at == at, TaskRow.id > str(cursor.id)))
        return or_(Case.created_at < at, and_(Case.created_at == at, TaskRow.id > str(cursor.id)))
    if cursor.at is None:
        return and_(TaskRow.due_at.is_(None), TaskRow.id > str(cursor.id))
    return or_(TaskRow.due_at > cursor.at, and_(TaskRow.due_at == cursor.at, TaskRow.id > str(cursor.id)),
               TaskRow.due_at.is_(None))


def _counts(session: Session, conds: list[ColumnElement[bool]], f: TaskFilters, at: datetime) -> dict[Light, int]:
    lights = light_conditions(at)
    stmt = select(*[func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(name)
                    for name, cond in lights.items()]).select_from(TaskRow)
    if f.needs_case():  # only these filters need the case row
        stmt = stmt.join(Case, Case.id == TaskRow.case_id)
    row = session.execute(stmt.where(*conds)).one()
    return {name: int(getattr(row, name)) for name in lights}


def visible_tasks(session: Session, actor: Actor, filters: TaskFilters, after: Cursor | None, *, at: datetime,
                  limit: int = PAGE_SIZE, with_counts: bool = False) -> TaskPage:
    """One page of the tasks ``actor`` may see (``visibility``), narrowed by ``filters``.

    ``at`` is the instant the lights are computed for; ``with_counts`` adds the per-light counts
    of the same listing without the light filter (the inbox's tabs show them).
    """
    conds = _conditions(actor, filters)
    counts = _counts(session, conds, filters, at) if with_counts else None
    where = list(conds)
    if filters.light is not None:
        where.append(light_conditions(at)[filters.light])
    if after is not None:
        where.append(_after(after, filters.sort))
    stmt = (select(*TASK_COLUMNS)
            .join(Case, Case.id == TaskRow.case_id)
            .join(ProblemClass, ProblemClass.code == Case.class_code)
            .where(*where)
            .order_by(*_ORDER[filters.sort])
            .limit(limit + 1))
    items = [task_item(r) for r in session.execute(stmt)]
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_cursor = Cursor(last.due_at if filters.sort == TaskSort.DUE else last.case_created_at, last.id)
    return TaskPage(items, next_cursor, counts)


_ORDER: dict[TaskSort, tuple[Any, ...]] = {
    TaskSort.DUE: (TaskRow.due_at.asc().nulls_last(), TaskRow.id.asc()),
    TaskSort.OLDEST: (Case.created_at.asc(), TaskRow.id.asc()),
    TaskSort.NEWEST: (Case.created_at.desc(), TaskRow.id.asc()),
}


def tab_counts(session: Session, actor: Actor, filters: TaskFilters) -> dict[Tab, int]:
    """How many tasks each inbox tab (mine, group) holds with the same filters (light aside)."""
    result = {}
    for tab in (Tab.MINE, Tab.GROUP):
        conds = _conditions(actor, replace(filters, tab=tab, light=None))
        stmt = select(func.count()).select_from(TaskRow)
        if filters.needs_case():
            stmt = stmt.join(Case, Case.id == TaskRow.case_id)
        result[tab] = int(session.scalar(stmt.where(*conds)) or 0)
    return result


def case_tasks(session: Session, case_id: int) -> list[TaskItem]:
    """The open tasks of one case, oldest first (the caller has checked the case is visible)."""
    stmt = (select(*TASK_COLUMNS)
            .join(Case, Case.id == TaskRow.case_id)
            .join(ProblemClass, ProblemClass.code == Case.class_code)
            .where(TaskRow.case_id == case_id)
            .order_by(TaskRow.created_at, TaskRow.id))
    return [task_item(r) for r in session.execute(stmt)]


@dataclass(frozen=True)
class TaskView:
    """One open task with its case and its form, for the task page and ``GET /tasks/{id}``."""

    task: TaskItem
    case: CaseRecord
    form: FormSpec


def find_task(session: Session, task_id: str) -> TaskItem | None:
    stmt = (select(*TASK_COLUMNS)
            .join(Case, Case.id == TaskRow.case_id)
            .join(ProblemClass, ProblemClass.code == Case.class_code)
            .where(TaskRow.id == task_id))
    row = session.execute(stmt).first()
    return task_item(row) if row is not None else None


def task_view(session: Session, actor: Actor, task_id: str, *, acting: bool = False) -> TaskView:
    """The task if ``actor`` may see it (``acting``: may also act on it, i.e. it is not claimed by
    someone else): NotFound once it is gone, Forbidden outside their scope."""
    item = find_task(session, task_id)
    if item is None:
        raise NotFound(f"task {task_id} is not open (it was completed, or the case moved on)")
    (check_task_permission if acting else check_task_visible)(actor, item)
    record = load_case(session, item.case_id)
    definition = definitions.load(session, record.definition_id)
    return TaskView(item, record, definition.user_tasks[item.spec_id].form)


__all__ = ["PAGE_SIZE", "MAX_PAGE_SIZE", "Tab", "TaskSort", "tab_counts", "TaskFilters", "TaskPage", "TaskView", "visible_tasks",
           "case_tasks", "find_task", "task_view"]



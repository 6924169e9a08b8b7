"""The inbox query: task rows joined with their case (and class names), never a workflow.

``inbox_query`` takes plain parameters so benchmarks can time it without a request. Sorting is by
due time (tasks without a deadline last), then task id; pages continue after ``(due_at, id)``
(keyset pagination), so a page costs the same however deep it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine.models import Case, ProblemClass, TaskRow

PAGE_SIZE = 50
TABS = ("mine", "group")
LIGHTS = ("green", "yellow", "red")
# Group queues are narrowed to the user's department for these roles …
DEPARTMENT_ROLES = frozenset({"handler", "leader"})
# … and to the user's district for these.
DISTRICT_ROLES = frozenset({"supervisor"})


@dataclass
class InboxPage:
    rows: list[Any]
    counts: dict[str, int]
    next_after: tuple[datetime | None, str] | None
    total: int = 0
    filters: dict[str, Any] = field(default_factory=dict)


def _light_conditions(now: datetime) -> dict[str, Any]:
    red = and_(TaskRow.due_at.is_not(None), TaskRow.due_at <= now)
    not_red = or_(TaskRow.due_at.is_(None), TaskRow.due_at > now)
    yellow = and_(TaskRow.warn_at.is_not(None), TaskRow.warn_at <= now, not_red)
    green = and_(not_red, or_(TaskRow.warn_at.is_(None), TaskRow.warn_at > now))
    return {"red": red, "yellow": yellow, "green": green}


def _local_day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz))


def inbox_query(
    session: Session,
    *,
    role: str,
    username: str,
    now: datetime,
    tab: str = "mine",
    department_code: str | None = None,
    district_code: str | None = None,
    class_code: str | None = None,
    district: str | None = None,
    street: str | None = None,
    grid: str | None = None,
    light: str | None = None,
    source: str | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
    timezone: str = "Asia/Shanghai",
    after: tuple[datetime | None, str] | None = None,
    limit: int = PAGE_SIZE,
) -> InboxPage:
    """One inbox page and the per-light counts of the same filter (without the light filter).

    tab "mine": tasks claimed by ``username``; tab "group": unclaimed tasks of ``role`` — for
    handlers and leaders only those of ``department_code``, for supervisors only those of
    ``district_code`` (when set). ``created_from``/``created_to`` are local dates (inclusive) of
    the case's report time.
    """
    if tab not in TABS:
        raise ValueError(f"tab must be one of {TABS}")
    scope: list[Any] = []
    if tab == "mine":
        scope.append(TaskRow.assignee == username)
    else:
        scope += [TaskRow.role == role, TaskRow.assignee.is_(None)]
        if role in DEPARTMENT_ROLES:
            scope.append(TaskRow.department_code == department_code if department_code
                         else TaskRow.department_code.is_(None))
        if role in DISTRICT_ROLES and district_code:
            scope.append(TaskRow.district_code == district_code)
    if class_code:
        scope.append(TaskRow.class_code == class_code)
    if district:
        scope.append(TaskRow.district_code == district)
    if source:
        scope.append(TaskRow.source == source)
    if street:
        scope.append(Case.street_code == street)
    if grid:
        scope.append(Case.grid_code == grid)
    if created_from:
        scope.append(Case.created_at >= _local_day_start(created_from, timezone))
    if created_to:
        scope.append(Case.created_at < _local_day_start(created_to + timedelta(days=1), timezone))

    lights = _light_conditions(now)
    count_stmt = select(*[func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(name)
                          for name, cond in lights.items()]).select_from(TaskRow)
    if street or grid or created_from or created_to:  # only these filters need the case row
        count_stmt = count_stmt.join(Case, Case.id == TaskRow.case_id)
    counts_row = session.execute(count_stmt.where(*scope)).one()
    counts = {name: int(getattr(counts_row, name)) for name in lights}

    where = list(scope)
    if light in lights:
        where.append(lights[light])
    if after is not None:
        after_due, after_id = after
        if after_due is None:
            where.append(and_(TaskRow.due_at.is_(None), TaskRow.id > after_id))
        else:
            where.append(or_(TaskRow.due_at > after_due,
                             and_(TaskRow.due_at == after_due, TaskRow.id > after_id),
                             TaskRow.due_at.is_(None)))
    stmt = (select(TaskRow.id, TaskRow.spec_id, TaskRow.name, TaskRow.role, TaskRow.assignee,
                   TaskRow.department_code, TaskRow.created_at, TaskRow.warn_at, TaskRow.due_at,
                   TaskRow.source, Case.id.label("case_id"), Case.number, Case.class_code, Case.urgency,
                   Case.district_code, Case.street_code, Case.grid_code, Case.address,
                   Case.created_at.label("case_created_at"), ProblemClass.name.label("class_name"),
                   ProblemClass.name_en.label("class_name_en"))
            .join(Case, Case.id == TaskRow.case_id)
            .join(ProblemClass, ProblemClass.code == Case.class_code)
            .where(*where)
            .order_by(TaskRow.due_at.asc().nulls_last(), TaskRow.id.asc())
            .limit(limit + 1))
    rows = list(session.execute(stmt))
    next_after = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_after = (rows[-1].due_at, rows[-1].id)
    total = counts["green"] + counts["yellow"] + counts["red"]
    return InboxPage(rows, counts, next_after, total)


def encode_after(after: tuple[datetime | None, str] | None) -> str | None:
    if after is None:
        return None
    due, task_id = after
    return f"{due.strftime('%Y%m%dT%H%M%S.%fZ') if due else '-'}~{task_id}"


def decode_after(text: str | None) -> tuple[datetime | None, str] | None:
    """Parse ``encode_after``'s text; None for anything malformed (the first page is shown)."""
    if not text or "~" not in text:
        return None
    due_text, task_id = text.split("~", 1)
    if not task_id or len(task_id) > 36:
        return None
    if due_text == "-":
        return None, task_id
    try:
        due = datetime.strptime(due_text, "%Y%m%dT%H%M%S.%fZ")
    except ValueError:
        return None
    from datetime import UTC

    return due.replace(tzinfo=UTC), task_id

"""Finding cases (``search_cases``): by number, keyword, class, place, department, source, status,
report period and overdue tasks, newest first, keyset-paginated, within the actor's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.model import Actor
from engine.models import Case, ProblemClass, TaskRow
from engine.queries.cursor import Cursor
from engine.queries.records import CASE_COLUMNS, CaseRecord, case_record
from engine.queries.visibility import case_visibility_filter

PAGE_SIZE = 50


@dataclass(frozen=True)
class CaseFilters:
    """None means any. ``number`` matches a case number's beginning (a whole number matches one
    case); ``keyword`` any part of the description, address or class name; ``overdue`` cases with an open
    task past its deadline at the instant the search runs."""

    number: str | None = None
    keyword: str | None = None
    class_code: str | None = None
    district: str | None = None
    street: str | None = None
    grid: str | None = None
    department: str | None = None
    source: str | None = None
    status: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    overdue: bool = False


@dataclass(frozen=True)
class CasePage:
    items: list[CaseRecord]
    next: Cursor | None  # None on the last page


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` literally (its % and _ escaped with \\)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(f: CaseFilters, at: datetime) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.number:
        conds.append(Case.number.like(_like(f.number) + "%", escape="\\"))
    if f.keyword:
        pattern = "%" + _like(f.keyword) + "%"
        # The class's name too: "井盖" finds every kind of manhole cover (the statement joins problem_class).
        conds.append(or_(*(column.ilike(pattern, escape="\\") for column in (
            Case.description, Case.address, ProblemClass.name, ProblemClass.name_en))))
    for column, value in ((Case.class_code, f.class_code), (Case.district_code, f.district),
                          (Case.street_code, f.street), (Case.grid_code, f.grid),
                          (Case.department_code, f.department), (Case.source, f.source), (Case.status, f.status)):
        if value is not None:
            conds.append(column == value)
    if f.created_from is not None:
        conds.append(Case.created_at >= f.created_from)
    if f.created_before is not None:
        conds.append(Case.created_at < f.created_before)
    if f.overdue:
        conds.append(exists().where(TaskRow.case_id == Case.id, TaskRow.due_at.is_not(None), TaskRow.due_at <= at))
    return conds


def search_cases(session: Session, actor: Actor | None, filters: CaseFilters, after: Cursor | None, *,
                 at: datetime, limit: int = PAGE_SIZE) -> CasePage:
    """One page of the cases ``actor`` may see that match ``filters``, newest report first.

    ``at`` is the instant "overdue" is judged at. Pages continue after ``Cursor(created_at, id)``.
    """
    where = [case_visibility_filter(actor), *_conditions(filters, at)]
    if after is not None:
        if after.at is None or not isinstance(after.id, int):
            raise ValidationError("after is not a cursor from a previous page", {"after": "invalid cursor"})
        where.append(or_(Case.created_at < after.at, and_(Case.created_at == after.at, Case.id < after.id)))
    stmt = (select(*CASE_COLUMNS).outerjoin(ProblemClass, ProblemClass.code == Case.class_code)
            .where(*where).order_by(Case.created_at.desc(), Case.id.desc()).limit(limit + 1))
    items = [case_record(r) for r in session.execute(stmt)]
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = Cursor(items[-1].created_at, items[-1].id)
    return CasePage(items, next_cursor)


__all__ = ["PAGE_SIZE", "CaseFilters", "CasePage", "search_cases"]

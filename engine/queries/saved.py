"""Saved case searches (常用查询): a caseworker names the filters of a search once and finds the same
cases again with one click — "last week's overdue manhole cases in 东湖区" stays last week's, since a
period is saved as a relative period (this week, last week, this month), not as dates.

Each user sees and deletes only their own. Functions take a session and never commit.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import Conflict, NotFound, ValidationError
from engine.models import SavedSearch

MAX_PER_USER = 20
NAME_CHARS = 40


def saved_searches(session: Session, username: str) -> list[SavedSearch]:
    return list(session.scalars(select(SavedSearch).where(SavedSearch.username == username)
                                .order_by(SavedSearch.name)))


def save_search(session: Session, username: str, name: str, filters: dict[str, str], at: datetime) -> SavedSearch:
    """Save ``filters`` (the search page's query keys) under ``name``."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= NAME_CHARS:
        raise ValidationError(f"name the search in 1 to {NAME_CHARS} characters", {"name": "length"})
    if not filters:
        raise ValidationError("set at least one filter before saving the search", {"filters": "empty"})
    if session.scalar(select(SavedSearch.id).where(SavedSearch.username == username, SavedSearch.name == name)):
        raise Conflict(f"you already have a saved search named {name!r}")
    if (session.scalar(select(func.count()).select_from(SavedSearch)
                       .where(SavedSearch.username == username)) or 0) >= MAX_PER_USER:
        raise ValidationError(f"at most {MAX_PER_USER} saved searches; delete one first", {"name": "too many"})
    row = SavedSearch(username=username, name=name, query=urlencode(sorted(filters.items())), created_at=at)
    session.add(row)
    session.flush()
    return row


def delete_search(session: Session, username: str, search_id: int) -> None:
    row = session.get(SavedSearch, search_id)
    if row is None or row.username != username:  # another user's search is not there for you
        raise NotFound("no such saved search")
    session.delete(row)
    session.flush()


def search_filters(row: SavedSearch) -> dict[str, str]:
    return dict(parse_qsl(row.query))


__all__ = ["saved_searches", "save_search", "delete_search", "search_filters", "MAX_PER_USER"]

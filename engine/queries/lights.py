"""Deadline lights (红黄绿灯) of a task, for one row in Python and for listings in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_

from engine.model import Light
from engine.models import TaskRow


def light(warn_at: datetime | None, due_at: datetime | None, at: datetime) -> Light:
    """green before warn_at (< 80 % of the limit), yellow until due_at, red from due_at on."""
    if due_at is not None and at >= due_at:
        return Light.RED
    if warn_at is not None and at >= warn_at:
        return Light.YELLOW
    return Light.GREEN


def light_conditions(at: datetime) -> dict[Light, ColumnElement[bool]]:
    """The SQL form of ``light`` on the ``task`` table, one condition per light."""
    not_red = or_(TaskRow.due_at.is_(None), TaskRow.due_at > at)
    return {
        Light.GREEN: and_(not_red, or_(TaskRow.warn_at.is_(None), TaskRow.warn_at > at)),
        Light.YELLOW: and_(TaskRow.warn_at.is_not(None), TaskRow.warn_at <= at, not_red),
        Light.RED: and_(TaskRow.due_at.is_not(None), TaskRow.due_at <= at),
    }


__all__ = ["light", "light_conditions"]

"""Readiness: the database answers and its schema is at the newest migration this code ships."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from engine.db import alembic_config


@dataclass(frozen=True)
class Readiness:
    ok: bool
    database: bool
    revision: str | None
    head: str
    problem: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "database": self.database, "revision": self.revision, "head": self.head,
                "problem": self.problem}


@cache
def _head() -> str:
    """The newest migration this code ships (read once: the files do not change while it runs)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def readiness(engine: Engine) -> Readiness:
    head = _head()
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        return Readiness(False, False, None, head, f"database unreachable: {type(exc).__name__}")
    if revision != head:
        return Readiness(False, True, revision, head,
                         f"schema at {revision or 'no migration'}, code expects {head}: run citycase db upgrade")
    return Readiness(True, True, revision, head)

"""Plain driver tuples for the audit's big reads.

Verify reads every event; building SQLAlchemy rows for them was a fifth of the chain-only
audit's time, and raw values also keep a damaged column from failing SQLAlchemy's type
processing (the checks name it instead).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session


def raw_rows(session: Session, sql: str, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` (no parameters) on the session's connection and transaction, in batches."""
    dbapi = session.connection().connection.dbapi_connection
    if session.get_bind().dialect.name == "postgresql":
        # A server-side cursor: memory stays bounded by the batch, not by the size of the history.
        cursor = dbapi.cursor(name=f"citycase_audit_{secrets.token_hex(6)}")  # type: ignore[union-attr]
    else:
        cursor = dbapi.cursor()  # type: ignore[union-attr]  # sqlite3 steps through the result lazily
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


__all__ = ["raw_rows"]

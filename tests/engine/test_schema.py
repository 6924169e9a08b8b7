"""The migrated schema and the SQLAlchemy models agree, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine.db import make_engine
from engine.models import Base


def test_models_and_migrations_agree(db):
    engine = make_engine(db.url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    assert {"case_record", "task", "deadline", "event", "outbox", "grid_cell", "calendar_day"} <= tables

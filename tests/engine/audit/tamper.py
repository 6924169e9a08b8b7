"""Tampering as an attacker with database access would: drop the append-only triggers, then edit."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from engine.db import make_engine

APPEND_ONLY = ("event", "audit_checkpoint", "audit_access")
TRIGGERS = {
    "postgresql": [f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}" for t in APPEND_ONLY],
    "sqlite": [f"DROP TRIGGER IF EXISTS {t}_no_{a}" for t in APPEND_ONLY for a in ("update", "delete")],
}


def tamper(db, *statements: str, **params: Any) -> list[int]:
    """Run the statements with the triggers dropped and foreign keys unchecked; their rowcounts."""
    if db.backend == "sqlite":
        conn = sqlite3.connect(make_url(db.url).database, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("BEGIN")
            for drop in TRIGGERS["sqlite"]:
                conn.execute(drop)
            counts = [conn.execute(sql, params).rowcount for sql in statements]
            conn.execute("COMMIT")
            return counts
        finally:
            conn.close()
    engine = make_engine(db.url)
    try:
        with engine.begin() as conn:
            # What a superuser can do: skip foreign-key (and all other) triggers for this session.
            conn.exec_driver_sql("SET session_replication_role = replica")
            for drop in TRIGGERS["postgresql"]:
                conn.execute(text(drop))
            return [conn.execute(text(sql), params).rowcount for sql in statements]
    finally:
        engine.dispose()


def event_id(db, number: str, seq: int) -> int:
    engine = make_engine(db.url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT e.id FROM event e JOIN case_record c ON c.id = e.case_id "
                                     "WHERE c.number = :n AND e.seq = :s"), {"n": number, "s": seq}).scalar_one()
    finally:
        engine.dispose()

"""The engine's hot path: fixed SQL executed at driver level inside SQLAlchemy's transaction.

Every command writes the same few statements. Building them with the ORM costs more than
running them (statement construction and cache keys dominated the profile), so they are
written once here, with ``:name`` parameters translated for psycopg, and executed with
``exec_driver_sql`` on the session's own connection — same connection, same transaction.
Datetimes are passed exactly as ``engine.models.UTCDateTime`` stores them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

SELECT_TASK = ("SELECT id, case_id, spec_id, name, role, department_code, district_code, assignee "
               "FROM task WHERE id = :id")
SELECT_CASE = ("SELECT c.id, c.number, c.definition_id, c.status, c.class_code, c.district_code, c.source, "
               "c.department_code, c.state, c.version, c.last_seq, c.last_hash, d.sha256 AS spec_hash "
               "FROM case_record c JOIN definition_version d ON d.id = c.definition_id WHERE c.id = :id")
# The case columns keep their names (SELECT_CASE's), the task's get prefixed ones.
SELECT_TASK_AND_CASE = (
    "SELECT t.id AS task_id, t.spec_id, t.name AS task_name, t.role, t.department_code AS task_department, "
    "t.district_code AS task_district, t.assignee, c.id, c.number, c.definition_id, c.status, c.class_code, "
    "c.district_code, c.source, c.department_code, c.state, c.version, c.last_seq, c.last_hash, "
    "d.sha256 AS spec_hash FROM task t JOIN case_record c ON c.id = t.case_id "
    "JOIN definition_version d ON d.id = c.definition_id WHERE t.id = :id")
UPDATE_CASE = ("UPDATE case_record SET state = :state, version = :new_version, last_seq = :seq, "
               "last_hash = :hash, updated_at = :now, status = :status, department_code = :department, "
               "outcome = CASE WHEN :reopened = 1 THEN NULL ELSE COALESCE(:outcome, outcome) END, "
               "closed_at = CASE WHEN :reopened = 1 THEN NULL ELSE COALESCE(:closed_at, closed_at) END "
               "WHERE id = :id AND version = :version")
INSERT_EVENT = ("INSERT INTO event (case_id, seq, at, actor, kind, task_id, task_spec, data, spec_hash, "
                "prev_hash, hash, hash_alg) VALUES (:case_id, :seq, :at, :actor, :kind, :task_id, :task_spec, "
                ":data, :spec_hash, :prev_hash, :hash, :hash_alg)")
DELETE_TASK = "DELETE FROM task WHERE id = :id"
INSERT_TASK = ("INSERT INTO task (id, case_id, spec_id, name, role, department_code, district_code, class_code, "
               "source, assignee, created_at, warn_at, due_at, natural_time, status) VALUES (:id, :case_id, "
               ":spec_id, :name, :role, :department_code, :district_code, :class_code, :source, NULL, :created_at, "
               ":warn_at, :due_at, :natural_time, 'ready')")
DELETE_DEADLINES = "DELETE FROM deadline WHERE case_id = :case_id"
INSERT_DEADLINE = "INSERT INTO deadline (case_id, task_id, name, due_at) VALUES (:case_id, :task_id, :name, :due_at)"
INSERT_OUTBOX = ("INSERT INTO outbox (case_id, kind, payload, created_at, attempts, next_attempt_at) "
                 "VALUES (:case_id, :kind, :payload, :created_at, 0, :created_at)")

NEXT_COUNTER = ("INSERT INTO counter (name, value) VALUES (:name, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = counter.value + 1 RETURNING value")
INSERT_CASE = (
    "INSERT INTO case_record (number, definition_id, status, source, class_code, urgency, grid_code, "
    "community_code, street_code, district_code, lon, lat, address, description, component_id, reporter, "
    "reporter_salt, public_token, created_at, updated_at, state, version, last_seq, last_hash) VALUES (:number, "
    ":definition_id, 'open', :source, :class_code, :urgency, :grid_code, :community_code, :street_code, "
    ":district_code, :lon, :lat, :address, :description, :component_id, :reporter, :reporter_salt, :public_token, "
    ":now, :now, "
    ":state, 0, 0, :last_hash) RETURNING id")
SELECT_CLASS = "SELECT code, urgency, active FROM problem_class WHERE code = :code"

_PARAM = re.compile(r"(?<!:):(\w+)")


@lru_cache(maxsize=64)
def _translate(sql: str, dialect: str) -> str:
    return _PARAM.sub(r"%(\1)s", sql) if dialect == "postgresql" else sql


class Writer:
    """Runs the fixed statements on the session's connection."""

    def __init__(self, session: Session) -> None:
        self.conn = session.connection()
        self.dialect = self.conn.dialect.name

    def time(self, value: datetime | None) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC).replace(tzinfo=None)
        # SQLAlchemy's SQLite DateTime stores this exact text; comparisons in SQL rely on it.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.dialect == "sqlite" else value

    def one(self, sql: str, params: dict[str, Any]):
        return self.conn.exec_driver_sql(_translate(sql, self.dialect), params).first()

    def run(self, sql: str, params: dict[str, Any]) -> int:
        return self.conn.exec_driver_sql(_translate(sql, self.dialect), params).rowcount

    def many(self, sql: str, rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        if rows:
            self.conn.exec_driver_sql(_translate(sql, self.dialect), rows)

    def batch(self, ops: list[tuple[str, Any]]) -> None:
        """Run writes whose results nobody reads: one pipelined round trip on PostgreSQL.

        Each op is (sql, params) or (sql, [params, …]) for executemany."""
        ops = [(sql, p) for sql, p in ops if not (isinstance(p, list) and not p)]
        if not ops:
            return
        if self.dialect != "postgresql":
            for sql, params in ops:
                if isinstance(params, list):
                    self.many(sql, params)
                else:
                    self.run(sql, params)
            return
        driver = self.conn.connection.driver_connection
        assert driver is not None  # a live psycopg connection inside the session's transaction
        with driver.pipeline(), driver.cursor() as cur:
            for sql, params in ops:
                if isinstance(params, list):
                    cur.executemany(_translate(sql, self.dialect), params)
                else:
                    cur.execute(_translate(sql, self.dialect), params)

    def select_case(self, case_id: int, lock: bool = False):
        sql = SELECT_CASE + (" FOR UPDATE OF c" if lock and self.dialect == "postgresql" else "")
        return self.one(sql, {"id": case_id})

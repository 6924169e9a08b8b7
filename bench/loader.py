"""Bulk loader: case_record and task rows written directly, NOT run through the engine.

The inbox reads only the task projection and case rows, so its latency at a million cases can be
measured without running a million workflows. Rows look like the engine's (same columns, same
value shapes: codes of the demo city, naive-UTC timestamps, uuid task ids) but their ``state`` is
an empty placeholder: a bulk-loaded case cannot be worked on. SQLite gets ``executemany`` in
large transactions; PostgreSQL gets ``COPY … FROM STDIN`` (psycopg 3), then ``ANALYZE``
(what autovacuum would do after such a load).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bench.common import START

GENESIS = "0" * 64
BATCH = 20_000

CASE_COLUMNS = ("id", "number", "definition_id", "status", "outcome", "source", "class_code", "urgency",
                "grid_code", "community_code", "street_code", "district_code", "lon", "lat", "address",
                "description", "component_id", "department_code", "reporter", "public_token", "created_at",
                "updated_at", "closed_at", "state", "version", "last_seq", "last_hash")
TASK_COLUMNS = ("id", "case_id", "spec_id", "name", "role", "department_code", "district_code", "class_code",
                "source", "assignee", "created_at", "warn_at", "due_at", "status")

# Open tasks by step (weights): what a city's queues look like on an ordinary afternoon.
TASK_MIX = (("handle", "处置", "handler", 50), ("verify", "核实", "supervisor", 10),
            ("check", "核查", "supervisor", 8), ("dispatch", "派遣", "dispatcher", 8),
            ("accept", "受理", "acceptor", 6), ("close", "结案", "shift_leader", 5),
            ("file", "立案", "shift_leader", 4), ("escalate", "督办", "leader", 5),
            ("approve_return", "回退审核", "dispatcher", 1), ("approve_extension", "延期审核", "dispatcher", 1),
            ("approve_suspension", "挂账审核", "dispatcher", 1))
SOURCES = ("supervisor", "supervisor", "supervisor", "citizen", "hotline", "camera", "sensor")
CLAIMED_FRACTION = 0.2  # handler tasks already claimed by the department's handler ("my tasks")


@dataclass
class City:
    """Codes of the seeded city the rows refer to."""

    definition_id: int
    cells: list[tuple[str, str, str, str, float, float]]  # grid, community, street, district, lon, lat
    classes: list[tuple[str, str, str]]  # code, urgency, handler type
    departments: dict[str, list[str]]  # handler type -> department codes
    handler_departments: list[str]


def read_city(session) -> City:
    from sqlalchemy import func, select

    from engine.models import DefinitionVersion, Department, GridCell, ProblemClass

    definition_id = session.scalar(select(func.max(DefinitionVersion.id)))
    if definition_id is None:
        raise RuntimeError("no definition deployed")
    cells = [(c.code, c.community_code, c.street_code, c.district_code, (c.min_lon + c.max_lon) / 2,
              (c.min_lat + c.max_lat) / 2) for c in session.scalars(select(GridCell).order_by(GridCell.code))]
    departments: dict[str, list[str]] = {}
    for d in session.scalars(select(Department).order_by(Department.code)):
        departments.setdefault(d.handler_type, []).append(d.code)
    classes = [(p.code, p.urgency, p.handler_type) for p in session.scalars(
        select(ProblemClass).where(ProblemClass.active.is_(True)).order_by(ProblemClass.code))
        if p.handler_type in departments]
    handler_departments = sorted(code for ht, codes in departments.items()
                                 if ht not in ("supervision_center", "command_center") for code in codes)
    return City(definition_id, cells, classes, departments, handler_departments)


def _department(city: City, handler_type: str, district: str) -> str:
    codes = city.departments[handler_type]
    local = f"{handler_type}@{district}"
    return local if local in codes else codes[0]


def generate(city: City, first_id: int, count: int, with_tasks: bool, seed: int,
             now: datetime = START) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(case row, task row or None): open cases with one task each, or closed cases of past years."""
    rng = random.Random(seed)
    steps = [s for s in TASK_MIX for _ in range(s[3])]
    for n in range(count):
        case_id = first_id + n
        grid, community, street, district, lon, lat = rng.choice(city.cells)
        class_code, urgency, handler_type = rng.choice(city.classes)
        department = _department(city, handler_type, district)
        source = rng.choice(SOURCES)
        if with_tasks:
            created = now - timedelta(minutes=rng.uniform(10, 30 * 24 * 60))
            case = dict(status="open", outcome=None, closed_at=None, updated_at=created + timedelta(minutes=5))
        else:
            created = now - timedelta(days=rng.uniform(31, 5 * 365))
            closed = created + timedelta(hours=rng.uniform(2, 72))
            case = dict(status="closed", outcome="closed", closed_at=closed, updated_at=closed)
        case.update(id=case_id, number=f"B{case_id:013d}", definition_id=city.definition_id, source=source,
                    class_code=class_code, urgency=urgency, grid_code=grid, community_code=community,
                    street_code=street, district_code=district, lon=lon, lat=lat,
                    address=f"演示路 {case_id % 9973} 号", description="bulk-loaded bench case",
                    component_id=None, department_code=department if not with_tasks or rng.random() < 0.6 else None,
                    reporter="bench", public_token=f"bench{case_id:016x}", created_at=created, state=b"{}",
                    version=0, last_seq=0, last_hash=GENESIS)
        task = None
        if with_tasks:
            spec_id, name, role, _ = rng.choice(steps)
            task_department = None
            if role in ("handler", "leader"):
                task_department = department if rng.random() < 0.7 else rng.choice(city.handler_departments)
            assignee = None
            if role == "handler" and rng.random() < CLAIMED_FRACTION:
                assignee = "handler_" + task_department.replace("@", "_")
            due = now + timedelta(minutes=rng.uniform(-24 * 60, 6 * 24 * 60))
            warn = due - timedelta(minutes=rng.uniform(30, 8 * 60))
            task = dict(id=str(uuid.UUID(int=(seed << 64) | case_id)), case_id=case_id, spec_id=spec_id,
                        name=name, role=role, department_code=task_department, district_code=district,
                        class_code=class_code, source=source, assignee=assignee,
                        created_at=max(created, warn - timedelta(hours=4)), warn_at=warn, due_at=due,
                        status="ready")
        yield case, task


def _sqlite_ts(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite DateTime storage format (naive UTC), so typed queries compare correctly."""
    if value is None:
        return None
    value = value.astimezone(START.tzinfo).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _naive(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(START.tzinfo).replace(tzinfo=None)


def load(url: str, city: City, first_id: int, count: int, with_tasks: bool, seed: int) -> dict[str, float]:
    """Write ``count`` cases (and their tasks) starting at ``first_id``; returns rows and seconds."""
    from engine.db import make_engine

    engine = make_engine(url)
    t0 = time.perf_counter()
    rows = generate(city, first_id, count, with_tasks, seed)
    tasks = 0
    try:
        if engine.dialect.name == "sqlite":
            tasks = _load_sqlite(engine, rows)
        else:
            tasks = _load_postgres(engine, rows)
    finally:
        engine.dispose()
    return {"cases": count, "tasks": tasks, "seconds": time.perf_counter() - t0}


def _load_sqlite(engine, rows) -> int:
    ts = {"created_at", "updated_at", "closed_at", "warn_at", "due_at"}
    case_sql = (f"INSERT INTO case_record ({', '.join(CASE_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in CASE_COLUMNS)})")
    task_sql = (f"INSERT INTO task ({', '.join(TASK_COLUMNS)}) VALUES ({', '.join('?' for _ in TASK_COLUMNS)})")
    tasks = 0
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        cur = conn.cursor()
        cases_batch: list[tuple] = []
        tasks_batch: list[tuple] = []

        def flush() -> None:
            cur.execute("BEGIN")
            cur.executemany(case_sql, cases_batch)
            if tasks_batch:
                cur.executemany(task_sql, tasks_batch)
            cur.execute("COMMIT")
            cases_batch.clear()
            tasks_batch.clear()

        for case, task in rows:
            cases_batch.append(tuple(_sqlite_ts(case[c]) if c in ts else case[c] for c in CASE_COLUMNS))
            if task is not None:
                tasks_batch.append(tuple(_sqlite_ts(task[c]) if c in ts else task[c] for c in TASK_COLUMNS))
                tasks += 1
            if len(cases_batch) >= BATCH:
                flush()
        if cases_batch:
            flush()
        cur.close()
    finally:
        raw.close()
    return tasks


def _load_postgres(engine, rows) -> int:
    ts = {"created_at", "updated_at", "closed_at", "warn_at", "due_at"}
    tasks = 0
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        pending_tasks: list[tuple] = []
        with conn.cursor() as cur:
            with cur.copy(f"COPY case_record ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
                for case, task in rows:
                    copy.write_row(tuple(_naive(case[c]) if c in ts else case[c] for c in CASE_COLUMNS))
                    if task is not None:
                        pending_tasks.append(tuple(_naive(task[c]) if c in ts else task[c] for c in TASK_COLUMNS))
            if pending_tasks:
                with cur.copy(f"COPY task ({', '.join(TASK_COLUMNS)}) FROM STDIN") as copy:
                    for row in pending_tasks:
                        copy.write_row(row)
                tasks = len(pending_tasks)
            cur.execute("SELECT setval(pg_get_serial_sequence('case_record', 'id'), "
                        "(SELECT max(id) FROM case_record))")
        conn.commit()
        conn.autocommit = True
        try:
            conn.execute("ANALYZE case_record")
            conn.execute("ANALYZE task")
        finally:
            conn.autocommit = False
    finally:
        raw.close()
    return tasks


def next_case_id(url: str) -> int:
    from sqlalchemy import func, select

    from engine.db import make_engine, session_factory
    from engine.models import Case

    engine = make_engine(url)
    with session_factory(engine)() as s:
        value = (s.scalar(select(func.max(Case.id))) or 0) + 1
    engine.dispose()
    return value

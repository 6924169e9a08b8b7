"""What every bench section shares: scratch databases, the seeded demo city, the case workload.

Scratch databases are the bench's own: SQLite files under a temporary folder and PostgreSQL
databases named ``citycase_bench_<pid>_<random>`` created on the server given by ``--postgres``
and dropped at the end (also when a section fails). Nothing else on the server is touched.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = PROJECT_ROOT / "bpmn"
START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Shanghai
CALENDAR_YEARS = (2025, 2026, 2027)
WORK_WINDOWS = "08:30-12:00,13:30-17:30"
TIMEZONE = "Asia/Shanghai"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def log(message: str) -> None:
    """Progress goes to stderr so that ``--json`` keeps stdout clean."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class SectionSkipped(Exception):
    """A section cannot run here (a module it measures has not landed, a database is missing)."""


def missing_module(exc: ModuleNotFoundError, *names: str) -> bool:
    """True when ``exc`` is about one of ``names`` (or a parent package of them) not existing yet."""
    return exc.name is not None and any(n == exc.name or n.startswith(exc.name + ".") for n in names)


# --- numbers -------------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """The process's peak resident set (VmHWM) in MB, from /proc; None where /proc is missing."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- scratch databases ---------------------------------------------------------------------------

def pg_admin_engine(url: str):
    from sqlalchemy import create_engine

    from engine.db import normalize_url

    return create_engine(normalize_url(url), isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def pg_version(url: str) -> str | None:
    """The server's version, or None when it cannot be reached."""
    from sqlalchemy import text

    try:
        engine = pg_admin_engine(url)
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
        engine.dispose()
        return str(version)
    except Exception as exc:  # noqa: BLE001 — any failure means "not available"
        log(f"PostgreSQL at {url} is not available: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
        return None


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    from engine.db import normalize_url

    return make_url(normalize_url(url)).set(database=name).render_as_string(hide_password=False)


def seed_city(factory) -> dict[str, Any]:
    """The demo city, the working-time calendar and the deployed bpmn/ folder."""
    from engine.calendar import seed_calendar
    from engine.db import transaction
    from engine.definitions import deploy, read_definition_files
    from engine.demo.seed import seed_demo

    with transaction(factory) as s:
        summary = seed_demo(s, seed=1)
        seed_calendar(s, list(CALENDAR_YEARS), WORK_WINDOWS, TIMEZONE)
        deploy(s, read_definition_files([BPMN_DIR]), "bench", START)
    return summary


@dataclass
class Scratch:
    """The bench's own databases. ``city(backend)`` is a fresh copy of a seeded, migrated template."""

    pg_url: str | None
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="citycase-bench-")))
    pg_databases: list[str] = field(default_factory=list)
    _templates: dict[str, str] = field(default_factory=dict)
    city_summary: dict[str, Any] | None = None

    def backends(self) -> list[str]:
        return ["sqlite", "postgres"] if self.pg_url else ["sqlite"]

    def _new_pg(self, template: str | None = None) -> str:
        from sqlalchemy import text

        assert self.pg_url
        name = f"citycase_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        engine = pg_admin_engine(self.pg_url)
        with engine.connect() as conn:
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        engine.dispose()
        self.pg_databases.append(name)
        return _with_database(self.pg_url, name)

    def empty(self, backend: str) -> str:
        from engine.db import upgrade

        if backend == "sqlite":
            url = f"sqlite:///{self.tmp / ('db_' + uuid.uuid4().hex[:8] + '.db')}"
        else:
            url = self._new_pg()
        upgrade(url)
        return url

    def template(self, backend: str) -> str:
        if backend not in self._templates:
            from engine.db import make_engine, session_factory

            url = self.empty(backend)
            engine = make_engine(url)
            self.city_summary = seed_city(session_factory(engine))
            engine.dispose()
            self._templates[backend] = url
        return self._templates[backend]

    def city(self, backend: str) -> str:
        """A fresh database holding the seeded demo city, the calendar and bpmn/ deployed."""
        from sqlalchemy.engine import make_url

        template = self.template(backend)
        if backend == "sqlite":
            src = Path(make_url(template).database)
            dst = self.tmp / f"city_{uuid.uuid4().hex[:8]}.db"
            shutil.copyfile(src, dst)
            return f"sqlite:///{dst}"
        return self._new_pg(make_url(template).database)

    def copy(self, url: str) -> str:
        """A fresh copy of one of the bench's own databases (nobody may be connected to it)."""
        from sqlalchemy.engine import make_url

        if url.startswith("sqlite"):
            import sqlite3

            src = make_url(url).database
            conn = sqlite3.connect(src)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            dst = self.tmp / f"copy_{uuid.uuid4().hex[:8]}.db"
            shutil.copyfile(src, dst)
            return f"sqlite:///{dst}"
        return self._new_pg(make_url(url).database)

    def drop(self, url: str) -> None:
        """Drop one scratch database early (frees disk between sections)."""
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        if url.startswith("sqlite"):
            for suffix in ("", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)
            return
        if name in self.pg_databases and self.pg_url:
            engine = pg_admin_engine(self.pg_url)
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()
            self.pg_databases.remove(name)
            self._templates = {k: v for k, v in self._templates.items() if make_url(v).database != name}

    def cleanup(self) -> None:
        from sqlalchemy import text

        if self.pg_databases and self.pg_url:
            try:
                engine = pg_admin_engine(self.pg_url)
                with engine.connect() as conn:
                    for name in list(self.pg_databases):
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                        self.pg_databases.remove(name)
                engine.dispose()
            except Exception as exc:  # noqa: BLE001
                log(f"could not drop scratch databases {self.pg_databases}: {exc}")
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- actors and the case workload ------------------------------------------------------------------

ACTORS_BY_ROLE = {"supervisor": "supervisor1", "acceptor": "acceptor1", "shift_leader": "shiftleader1",
                  "dispatcher": "dispatcher1"}
ROLE_DEPARTMENTS = {"acceptor": "supervision_center", "shift_leader": "supervision_center",
                    "dispatcher": "command_center"}
CITIZEN_USERNAME = "citizen"


def actor_for(role: str, department_code: str | None, district_code: str | None):
    """The demo user who may work a task row with these attributes."""
    from engine.model import Actor

    if role in ("handler", "leader"):
        return Actor(f"{role}_{(department_code or '').replace('@', '_')}", role, department_code)
    if role == "supervisor":
        return Actor("supervisor1", "supervisor", None, district_code)
    return Actor(ACTORS_BY_ROLE[role], role, ROLE_DEPARTMENTS.get(role))


# Each plan is a list of (task spec id, form data); "{department}" is filled in per case.
HAPPY = [("verify", {"verdict": "confirmed"}), ("accept", {"decision": "file"}), ("file", {"decision": "file"}),
         ("dispatch", {"department": "{department}"}), ("handle", {"outcome": "done", "result": "已清理"}),
         ("check", {"verdict": "passed"}), ("close", {})]
SUPERVISOR = HAPPY[1:]
REWORK = HAPPY[:5] + [("check", {"verdict": "failed", "note": "仍有垃圾"}),
                      ("handle", {"outcome": "done", "result": "再次清理"})] + HAPPY[5:]
RETURN = HAPPY[:4] + [("handle", {"outcome": "return", "result": "不属本单位"}),
                      ("approve_return", {"decision": "approve"}),
                      ("dispatch", {"department": "{department}"})] + HAPPY[4:]
EXTEND = HAPPY[:4] + [("handle", {"outcome": "extend", "result": "需要更多时间", "extension_amount": 1,
                                  "extension_unit": "workday"}),
                      ("approve_extension", {"decision": "approve"})] + HAPPY[4:]
PLANS = {"happy": HAPPY, "supervisor": SUPERVISOR, "rework": REWORK, "return": RETURN, "extend": EXTEND}
# 20 cases: 10 happy (7 completions), 4 supervisor reports (6), 3 reworks (9), 2 returns (10),
# 1 extension (9) = 150 completions, 7.5 per case.
MIX = ["happy", "supervisor", "happy", "rework", "happy", "return", "happy", "supervisor", "happy", "rework",
       "happy", "extend", "happy", "supervisor", "happy", "rework", "happy", "return", "happy", "supervisor"]


@dataclass
class CasePlan:
    kind: str
    report: dict[str, Any]
    steps: list[tuple[str, dict[str, Any]]]
    district_code: str
    initial: dict[str, Any] | None = None  # the workflow start data (for the in-memory run)


@dataclass
class CityFacts:
    """What the workload needs to know about the seeded city (read once, outside any timing)."""

    cells: list[tuple[float, float, str, str, str]]  # lon, lat, grid, street, district
    classes: list[tuple[str, str]]  # (event class code, handler type)
    departments: set[str]


def city_facts(session) -> CityFacts:
    from sqlalchemy import select

    from engine.models import Department, GridCell, ProblemClass

    cells = [((c.min_lon + c.max_lon) / 2, (c.min_lat + c.max_lat) / 2, c.code, c.street_code, c.district_code)
             for c in session.scalars(select(GridCell).order_by(GridCell.code))]
    departments = set(session.scalars(select(Department.code)))
    classes = [(p.code, p.handler_type) for p in session.scalars(
        select(ProblemClass).where(ProblemClass.kind == "event", ProblemClass.active.is_(True))
        .order_by(ProblemClass.code))]
    return CityFacts(cells, classes, departments)


def department_for(facts: CityFacts, handler_type: str, district: str) -> str | None:
    for code in (f"{handler_type}@{district}", handler_type):
        if code in facts.departments:
            return code
    return None


def make_plans(facts: CityFacts, count: int, seed: int = 7, offset: int = 0) -> list[CasePlan]:
    """``count`` cases in the fixed mix, spread over the city's grid cells and event classes."""
    rng = random.Random(seed)
    usable = [(code, ht) for code, ht in facts.classes
              if all(department_for(facts, ht, d) for d in ("330191", "330192", "330193"))]
    if not usable:
        raise RuntimeError("no event class has a department in every district; is the demo city seeded?")
    plans = []
    for i in range(offset, offset + count):
        kind = MIX[i % len(MIX)]
        lon, lat, _grid, _street, district = rng.choice(facts.cells)
        class_code, handler_type = rng.choice(usable)
        department = department_for(facts, handler_type, district)
        steps = [(spec, {k: (department if v == "{department}" else v) for k, v in data.items()})
                 for spec, data in PLANS[kind]]
        source = "supervisor" if kind == "supervisor" else "citizen"
        report = {"source": source, "class_code": class_code, "lon": lon, "lat": lat,
                  "description": f"bench case {i}", "address": f"演示路 {i} 号"}
        plans.append(CasePlan(kind, report, steps, district))
    return plans


def completions_of(plans: list[CasePlan]) -> int:
    return sum(len(p.steps) for p in plans)


def clock_step() -> timedelta:
    """How far the bench's ManualClock moves per command: a busy city, not a frozen one."""
    return timedelta(seconds=2)


# --- processes ---------------------------------------------------------------------------------------

def _get(queue, workers, timeout: float):
    """The next message, or an error as soon as a worker died without sending one."""
    import queue as queue_module

    deadline = time.monotonic() + timeout
    while True:
        try:
            return queue.get(timeout=0.5)
        except queue_module.Empty:
            dead = [w for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a bench process died (exit code {dead[0].exitcode})") from None
            if time.monotonic() > deadline:
                raise TimeoutError("a bench process did not answer in time") from None


def spawn_all(target, args_list: list[tuple], timeout: float = 3600) -> list[dict[str, Any]]:
    """Start one spawned process per args tuple running ``target(ready, go, results, *args)``.

    Each process sets itself up, puts anything on ``ready``, waits for ``go`` (set once all are
    ready, so set-up is never timed), then puts one dict on ``results`` with "ok" true or false.
    A failed process raises here with its traceback.
    """
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    workers = [ctx.Process(target=target, args=(ready, go, results, *args), daemon=True) for args in args_list]
    for w in workers:
        w.start()
    try:
        for _ in workers:
            _get(ready, workers, 900)
        go.set()
        outs = [_get(results, workers, timeout) for _ in workers]
    finally:
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.terminate()
    failed = [o for o in outs if not o.get("ok")]
    if failed:
        raise RuntimeError(f"{failed[0].get('error')}\n{failed[0].get('traceback', '')}")
    return outs


def report_failure(results_queue, ready_queue=None) -> None:
    """Inside a worker's ``except``: tell the parent what went wrong (and unblock its wait)."""
    import traceback

    if ready_queue is not None:
        ready_queue.put(os.getpid())
    exc_text = traceback.format_exc()
    last = exc_text.strip().splitlines()[-1] if exc_text.strip() else "error"
    results_queue.put({"ok": False, "error": last, "traceback": exc_text})


def write_transaction(factory):
    """The transaction a write command runs in: on SQLite one that takes the write lock at BEGIN
    (``engine.db.transaction(immediate=True)``, as the scheduler uses) so that two processes queue
    on the lock instead of failing to upgrade a read lock; elsewhere a plain transaction."""
    import inspect

    from engine.db import transaction

    if "immediate" in inspect.signature(transaction).parameters:
        return transaction(factory, immediate=True)
    try:
        from engine.outbox import write_transaction as immediate
    except ImportError:
        return transaction(factory)
    return immediate(factory)


def is_lock_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, OperationalError) and "locked" in str(exc.orig)

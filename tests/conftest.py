"""Shared fixtures: migrated databases on SQLite and (when configured) PostgreSQL.

Each worker migrates a template once per backend — and once more with the demo city seeded
and bpmn/ deployed — then every test gets its own copy (a file copy on SQLite, CREATE
DATABASE … TEMPLATE on PostgreSQL), so tests run on a real migrated schema and never share rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.clock import ManualClock
from engine.db import make_engine, normalize_url, session_factory, transaction, upgrade

PG_URL = os.environ.get("CITYCASE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]
START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # Wednesday 09:00 in Shanghai


def pytest_collection_modifyitems(config, items):
    if os.environ.get("CITYCASE_REQUIRE_POSTGRES") and not PG_URL:
        raise pytest.UsageError("CITYCASE_REQUIRE_POSTGRES is set but CITYCASE_TEST_POSTGRES_URL is not")


def _on_postgres(report) -> bool:
    """A test run on PostgreSQL: its parameter id says so, or, unparametrized, its postgres mark
    (a test merely *named* after PostgreSQL but run on SQLite is not one)."""
    nodeid = report.nodeid
    if nodeid.endswith("]"):
        return "postgres" in nodeid.rpartition("[")[2]
    return "postgres" in getattr(report, "keywords", {})


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # .ci/run requires that PostgreSQL tests really ran: a skipped postgres test fails CI.
    if not os.environ.get("CITYCASE_REQUIRE_POSTGRES"):
        return
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if _on_postgres(r)]
    if skipped:
        terminalreporter.write_line(f"FAIL: {len(skipped)} PostgreSQL tests were skipped", red=True)
        terminalreporter._session.exitstatus = 1  # noqa: SLF001


def _admin_engine():
    return create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return make_url(normalize_url(PG_URL)).set(database=name).render_as_string(hide_password=False)


@dataclass
class TestDB:
    url: str
    backend: str
    factory: Any
    city: dict[str, Any] | None = None

    def session(self):
        # Deferred, unlike the entry points' IMMEDIATE transactions: tests run in one thread and
        # nest sessions (a read inside an open writer) without waiting on their own write lock.
        return transaction(self.factory, immediate=False)


class _Templates:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.made: dict[tuple[str, bool], str] = {}
        self.city: dict[str, Any] | None = None
        self.worker = os.environ.get("PYTEST_XDIST_WORKER", "main")

    def template(self, backend: str, seeded: bool) -> str:
        key = (backend, seeded)
        if key not in self.made:
            self.made[key] = self._build(backend, seeded)
        return self.made[key]

    def _build(self, backend: str, seeded: bool) -> str:
        name = f"citycase_tpl_{self.worker}_{'city' if seeded else 'empty'}_{uuid.uuid4().hex[:6]}"
        if backend == "sqlite":
            url = f"sqlite:///{self.tmp / (name + '.db')}"
        else:
            with _admin_engine().connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = _pg_url(name)
        upgrade(url)
        if seeded:
            engine = make_engine(url)
            self.city = seed_city(session_factory(engine))
            engine.dispose()
        return url

    def copy(self, backend: str, seeded: bool) -> str:
        template = self.template(backend, seeded)
        if backend == "sqlite":
            src = Path(make_url(template).database)
            dst = self.tmp / f"t_{uuid.uuid4().hex}.db"
            shutil.copyfile(src, dst)
            return f"sqlite:///{dst}"
        name = f"citycase_t_{self.worker}_{uuid.uuid4().hex[:10]}"
        with _admin_engine().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"'))
        return _pg_url(name)

    def drop_all(self) -> None:
        if not PG_URL:
            return
        with _admin_engine().connect() as conn:
            for (backend, _), url in self.made.items():
                if backend == "postgres":
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


def seed_city(factory) -> dict[str, Any]:
    """The demo city, its calendar and the deployed bpmn/ folder."""
    from engine.calendar import seed_calendar
    from engine.definitions import deploy, read_definition_files
    from engine.demo.seed import seed_demo

    root = Path(__file__).resolve().parent.parent
    with transaction(factory) as s:
        summary = seed_demo(s, seed=1)
        seed_calendar(s, [2025, 2026, 2027], "08:30-12:00,13:30-17:30", "Asia/Shanghai")
        deploy(s, read_definition_files([root / "bpmn"]), "tests", START)
    return summary


@pytest.fixture(scope="session")
def _templates(tmp_path_factory):
    t = _Templates(tmp_path_factory.mktemp("dbs"))
    yield t
    t.drop_all()


def _make(request, templates: _Templates, backend: str, seeded: bool):
    if backend == "postgres" and not PG_URL:
        pytest.skip("postgres: set CITYCASE_TEST_POSTGRES_URL to run")
    url = templates.copy(backend, seeded)
    engine = make_engine(url)
    db = TestDB(url, backend, session_factory(engine), templates.city if seeded else None)
    yield db
    engine.dispose()
    if backend == "postgres":
        with _admin_engine().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    else:
        Path(make_url(url).database).unlink(missing_ok=True)


@pytest.fixture(params=BACKENDS)
def db(request, _templates):
    """An empty migrated database (SQLite and PostgreSQL)."""
    yield from _make(request, _templates, request.param, False)


@pytest.fixture(params=BACKENDS)
def city(request, _templates):
    """A migrated database with the demo city, its calendar and bpmn/ deployed."""
    yield from _make(request, _templates, request.param, True)


@pytest.fixture
def sqlite_city(request, _templates):
    """The seeded city on SQLite only (for tests whose subject is not the database)."""
    yield from _make(request, _templates, "sqlite", True)


@pytest.fixture
def clock():
    return ManualClock(START)

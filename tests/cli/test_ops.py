"""``citycase backup`` and ``citycase restore``: a backup restored into a fresh database verifies and
holds the same cases; every refusal exits non-zero with a message and changes nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cli import cli
from engine.commands import complete_task, start_case
from engine.db import make_engine, session_factory, transaction
from engine.model import EngineContext
from engine.models import Case, Event, GridCell
from tests.conftest import _make
from tests.factories import ACCEPTOR, SUPERVISOR, open_tasks, report


@pytest.fixture
def fresh(request, _templates, city):
    """An empty migrated database on the same backend as ``city``."""
    yield from _make(request, _templates, city.backend, False)


def _counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return (s.scalar(select(func.count()).select_from(Case)) or 0,
                    s.scalar(select(func.count()).select_from(Event)) or 0)
    finally:
        engine.dispose()


def _cells(url: str) -> int:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return s.scalar(select(func.count()).select_from(GridCell)) or 0
    finally:
        engine.dispose()


def _with_cases(city, clock) -> None:
    ctx = EngineContext(clock)
    for _ in range(3):
        with transaction(city.factory) as s:
            case = start_case(s, ctx, report(city.city, source="supervisor"), SUPERVISOR)
        with transaction(city.factory) as s:
            task = next(t for t in open_tasks(s, case.case_id) if t.spec_id == "accept")
            complete_task(s, ctx, task.id, ACCEPTOR, {"decision": "file"})


def invoke(url, *args):
    return CliRunner().invoke(cli, ["--database-url", url, *args])


def test_backup_then_restore_into_a_fresh_database_verifies(city, fresh, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("CITYCASE_INSTANCE_DIR", str(tmp_path))
    _with_cases(city, clock)
    file = tmp_path / "city.backup"
    made = invoke(city.url, "backup", str(file), "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["bytes"] == file.stat().st_size > 0
    assert "backup:" in made.stderr  # progress

    # the fresh database is migrated (it holds tables): restore refuses it without --force
    refused = invoke(fresh.url, "restore", str(file))
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert _counts(fresh.url) == (0, 0)

    restored = invoke(fresh.url, "restore", str(file), "--force", "--json")
    assert restored.exit_code == 0, restored.output
    assert json.loads(restored.stdout)["ok"] is True  # citycase verify ran on the restored copy
    assert _counts(fresh.url) == _counts(city.url)
    assert _counts(city.url)[0] == 3


def test_restore_into_a_new_sqlite_file_needs_no_force(sqlite_city, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("CITYCASE_INSTANCE_DIR", str(tmp_path))
    _with_cases(sqlite_city, clock)
    file = tmp_path / "city.db.bak"
    assert invoke(sqlite_city.url, "backup", str(file)).exit_code == 0
    again = invoke(sqlite_city.url, "backup", str(file))
    assert again.exit_code == 1 and "already exists" in again.stderr
    target = f"sqlite:///{tmp_path / 'new.db'}"
    restored = invoke(target, "restore", str(file))
    assert restored.exit_code == 0, restored.output
    assert "everything verifies" in restored.stdout
    assert _counts(target) == _counts(sqlite_city.url)


def test_refusals_are_clear_errors(city, tmp_path):
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    result = invoke(city.url, "restore", str(not_a_backup), "--force")
    assert result.exit_code == 1 and "not a citycase backup" in result.stderr
    result = invoke(city.url, "restore", str(tmp_path / "missing.bak"))
    assert result.exit_code == 1 and "is not a file" in result.stderr
    result = invoke(city.url, "backup", str(tmp_path / "no" / "such" / "dir.bak"))
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert _counts(city.url) == (0, 0)


def test_a_backup_of_the_other_database_kind_is_refused(city, tmp_path):
    other = tmp_path / "other.bak"
    if city.backend == "sqlite":
        other.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)  # a pg_dump archive's header
        expected = "is a postgresql backup and cannot be restored into a sqlite database"
    else:
        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
        expected = "is a sqlite backup and cannot be restored into a postgresql database"
    result = invoke(city.url, "restore", str(other), "--force")
    assert result.exit_code == 1 and expected in result.stderr
    assert _cells(city.url) == city.city["grid_cells"]  # the seeded city is untouched


def test_without_pg_dump_postgres_backup_says_what_to_install(city, tmp_path, monkeypatch):
    if city.backend != "postgres":
        pytest.skip("pg_dump is for PostgreSQL")
    monkeypatch.setattr("engine.backup.shutil.which", lambda _name: None)
    file = tmp_path / "city.backup"
    result = invoke(city.url, "backup", str(file))
    assert result.exit_code == 1 and "pg_dump is not installed" in result.stderr
    assert not file.exists() and not list(tmp_path.glob(".*partial"))

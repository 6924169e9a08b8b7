"""Whole-database backup and restore: SQLite's online backup API, pg_dump/pg_restore for PostgreSQL.

Both write the backup to a temporary file beside the target and rename it at the end, so a
failed or interrupted backup never leaves a half-written file under the requested name. A
restore refuses to overwrite a database that already holds tables unless forced: restoring is
the one operation that throws a city's history away.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from engine.db import make_engine, normalize_url
from engine.errors import CityCaseError

#: progress(done, total, note): pages copied of total on SQLite; on PostgreSQL total is None
#: and note is pg_dump's / pg_restore's own line about the object it is on.
Progress = Callable[[int, "int | None", str], None]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PGDUMP_MAGIC = b"PGDMP"
_PAGES_PER_STEP = 256


class BackupError(CityCaseError):
    """A backup or restore that cannot be done; the message says why and what to do."""


class Backend(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class BackupResult:
    path: str
    backend: Backend
    bytes: int


def backend_of(url: str) -> Backend:
    name = make_url(normalize_url(url)).get_backend_name()
    if name not in (Backend.SQLITE, Backend.POSTGRESQL):
        raise BackupError(f"cannot back up a {name} database (only SQLite and PostgreSQL)")
    return Backend(name)


def file_backend(path: Path) -> Backend | None:
    """Which kind of backup a file is, by its first bytes (None: neither)."""
    with path.open("rb") as f:
        head = f.read(len(_SQLITE_MAGIC))
    if head == _SQLITE_MAGIC:
        return Backend.SQLITE
    if head.startswith(_PGDUMP_MAGIC):
        return Backend.POSTGRESQL
    return None


def table_names(url: str) -> list[str]:
    """The tables the database holds now (none for a new SQLite file or an empty PostgreSQL database)."""
    if backend_of(url) is Backend.SQLITE:
        path = _sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return []
    engine = make_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def backup(url: str, target: Path, progress: Progress, *, overwrite: bool = False) -> BackupResult:
    """Copy the whole database into ``target`` while it stays in use."""
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; choose another file or pass --force to replace it")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    backend = backend_of(url)
    tmp = target.with_name(f".{target.name}.partial")
    try:
        if backend is Backend.SQLITE:
            _sqlite_copy(_sqlite_path(url), tmp, progress, source_must_exist=True)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--verbose", f"--file={tmp}", _libpq_url(url)],
                 url, progress)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupResult(str(target), backend, target.stat().st_size)


def restore(url: str, source: Path, progress: Progress, *, force: bool = False) -> BackupResult:
    """Replace the database at ``url`` with the backup in ``source``."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    backend = backend_of(url)
    kind = file_backend(source)
    if kind is None:
        raise BackupError(f"{source} is not a citycase backup (neither an SQLite file nor a pg_dump archive)")
    if kind is not backend:
        raise BackupError(f"{source} is a {kind} backup and cannot be restored into a {backend} database")
    existing = table_names(url)
    if existing and not force:
        raise BackupError(f"the database already holds {len(existing)} tables; restoring would replace them. "
                          "Restore into an empty database, or pass --force to overwrite it")
    if backend is Backend.SQLITE:
        _sqlite_copy(source, _sqlite_path(url), progress, source_must_exist=True)
    else:
        if existing:
            _empty_postgres(url)
        _run(["pg_restore", "--no-owner", "--exit-on-error", "--verbose", f"--dbname={_libpq_url(url)}",
              str(source)], url, progress)
    return BackupResult(str(source), backend, source.stat().st_size)


# --- SQLite ------------------------------------------------------------------------------------

def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_copy(source: Path, target: Path, progress: Progress, *, source_must_exist: bool) -> None:
    """sqlite3's online backup: consistent even while other connections write."""
    if source_must_exist and not source.exists():
        raise BackupError(f"the database file {source} does not exist")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=_PAGES_PER_STEP,
                   progress=lambda _status, remaining, total: progress(total - remaining, total, "pages"))
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"copying {source} failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


# --- PostgreSQL --------------------------------------------------------------------------------

def _libpq_url(url: str) -> str:
    """The URL pg_dump/pg_restore understand: no SQLAlchemy driver, no password (that goes in PGPASSWORD)."""
    u = make_url(normalize_url(url))
    return u.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(argv: list[str], url: str, progress: Progress) -> None:
    if shutil.which(argv[0]) is None:
        raise BackupError(f"{argv[0]} is not installed; install the PostgreSQL client tools "
                          f"(e.g. apt-get install postgresql-client) matching the server's version")
    env = dict(os.environ)
    password = make_url(normalize_url(url)).password
    if password:
        env["PGPASSWORD"] = str(password)  # not on the command line, where `ps` would show it
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines: list[str] = []
    for n, line in enumerate(proc.stderr, 1):
        lines.append(line.rstrip())
        progress(n, None, line.strip())
    if proc.wait() != 0:
        errors = [ln for ln in lines if "error" in ln.lower()] or lines[-3:]
        raise BackupError(f"{argv[0]} failed (exit {proc.returncode}): " + " | ".join(errors[-3:]))


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()

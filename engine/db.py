"""Database engines, sessions and migrations (Alembic, run programmatically)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from engine.config import PROJECT_ROOT
from engine.errors import CityCaseError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class DatabaseUrlError(CityCaseError):
    """The database URL cannot be used; the message says what to give instead."""


def check_url(url: str) -> URL:
    """Parse ``url`` or raise :class:`DatabaseUrlError`. A SQLite file's folder must exist, except
    the default ``instance/`` folder, which is created: nothing else is created unasked."""
    hint = "use sqlite:////absolute/path/citycase.db or postgresql://user@host/database"
    try:
        parsed = make_url(normalize_url(url))
        parsed.get_dialect()
    except ArgumentError:
        raise DatabaseUrlError(f"{url!r} is not a database URL; {hint}") from None
    except NoSuchModuleError:
        raise DatabaseUrlError(f"{url.split(':', 1)[0]!r} is not a database citycase can use; {hint}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            if folder.resolve() != (PROJECT_ROOT / "instance").resolve():
                raise DatabaseUrlError(f"the folder {str(folder)!r} of the SQLite database does not exist; "
                                       f"create it first or give another path")
            folder.mkdir(parents=True, exist_ok=True)
    return parsed


def make_engine(url: str) -> Engine:
    check_url(url)
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling would defer BEGIN; we issue it ourselves so that
        # "BEGIN IMMEDIATE" is available to the scheduler's claim and locks behave predictably.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No pre-ping: it costs a round trip per transaction; a dead connection fails its statement
    # and SQLAlchemy discards it. Recycle connections hourly so none outlive a server timeout.
    return create_engine(url, pool_recycle=3600, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


# SQLite's and PostgreSQL's words for "another transaction held the lock": the transaction did
# nothing wrong and can be run again as a whole. A lost version check is a Conflict (an engine
# error), never an OperationalError, so it is never retried.
_LOCK_MESSAGES = ("database is locked", "database is busy", "database table is locked")
_PG_RETRY_CODES = ("40001", "40P01")  # serialization failure, deadlock detected
_IMMEDIATE = "BEGIN IMMEDIATE"


def lost_only_the_lock(exc: BaseException) -> bool:
    """True when ``exc`` says the transaction lost only a lock (safe to run again from the start)."""
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) in _PG_RETRY_CODES:
        return True
    return any(m in str(exc.orig).lower() for m in _LOCK_MESSAGES)


def immediate_engine(engine: Engine) -> Engine:
    """``engine`` whose transactions take SQLite's write lock at BEGIN (waiting up to busy_timeout).

    A deferred SQLite transaction that read first and writes later cannot wait for the lock: if
    another connection committed in between, its upgrade fails at once whatever the busy timeout
    (SQLITE_BUSY_SNAPSHOT in WAL mode). Beginning IMMEDIATE makes the wait happen at BEGIN, where
    the busy timeout applies. Other databases are returned unchanged."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(sqlite_begin=_IMMEDIATE)


def begin_immediate(session: Session) -> None:
    """On SQLite, make the session's next transaction take the write lock at BEGIN (as
    :func:`immediate_engine` does for every transaction of an engine)."""
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={"sqlite_begin": _IMMEDIATE})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], *, immediate: bool = True) -> Iterator[Session]:
    """The one place entry points commit: commit on success, roll back on any error.

    ``immediate`` (the default): on SQLite the transaction takes the write lock at BEGIN, so a
    transaction that reads and then writes waits for the lock instead of failing (see
    :func:`immediate_engine`). Pass ``immediate=False`` only for transactions that never write."""
    bind = factory.kw.get("bind")
    if immediate and bind is not None:
        session = factory(bind=immediate_engine(bind))
    else:
        session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)

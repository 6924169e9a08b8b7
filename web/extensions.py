"""Flask extensions and the per-request database session.

``app.extensions["citycase"]`` holds a :class:`CityCaseState` (config, SQLAlchemy engine and
session factory, clock). Views and API handlers call :func:`get_session` for the request's
session; it is committed once at the request boundary (``after_request``) when the response
status is below 400 and nobody called :func:`rollback`, rolled back otherwise, and closed at
teardown. Engine commands never commit, so a whole request is one transaction.

On SQLite a request that may write (POST, PUT, PATCH, DELETE) begins its transaction IMMEDIATE,
so it waits for the write lock at BEGIN instead of failing when it first writes.
:func:`install_lock_retry` runs a view again from the start, on a fresh session, when its
transaction lost only the lock (never when it lost a version check: that is a 409 Conflict).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.db import immediate_engine, lost_only_the_lock

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
# Storage comes from app.config["RATELIMIT_STORAGE_URI"] (memory:// by default).
limiter = Limiter(key_func=get_remote_address)

_SESSION = "_citycase_session"
_ROLLBACK = "_citycase_rollback"
_IMMEDIATE = "_citycase_immediate"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Writing requests whose transaction should NOT hold SQLite's write lock from the start, because
# they do slow work before they write (a password hash), or write only through transactions of
# their own (moving running cases to a new version: one transaction per case), or only read
# (what-if runs its simulations in throw-away databases for seconds); a lost lock is retried like
# any other.
DEFERRED_ENDPOINTS = frozenset({"auth.login", "api.login", "designer.migrate", "designer.whatif"})
LOCK_ATTEMPTS = 3  # the first attempt, then IMMEDIATE attempts that wait up to busy_timeout each


@dataclass
class CityCaseState:
    config: dict[str, Any]
    engine: Engine
    factory: sessionmaker[Session]
    clock: Clock


def state(app: Flask | None = None) -> CityCaseState:
    return (app or current_app).extensions["citycase"]


def get_session() -> Session:
    """The request's session (created on first use). Do not commit it: the request boundary does."""
    session = g.get(_SESSION)
    if session is None:
        st = state()
        session = st.factory(bind=immediate_engine(st.engine)) if _immediate() else st.factory()
        setattr(g, _SESSION, session)
    return session


def _immediate() -> bool:
    if g.get(_IMMEDIATE):
        return True
    return request.method not in SAFE_METHODS and request.endpoint not in DEFERRED_ENDPOINTS


def rollback() -> None:
    """Discard the request's writes (e.g. after catching an engine error to re-render a form)."""
    session = g.get(_SESSION)
    if session is not None:
        session.rollback()
    setattr(g, _ROLLBACK, True)


def commit() -> None:
    """Commit now (rarely needed: e.g. before streaming). The boundary commit still runs after."""
    session = g.get(_SESSION)
    if session is not None:
        session.commit()


def init_session_handling(app: Flask) -> None:
    @app.after_request
    def _commit_or_rollback(response):
        session = g.get(_SESSION)
        if session is not None:
            if response.status_code < 400 and not g.get(_ROLLBACK):
                session.commit()
            else:
                session.rollback()
        return response

    @app.teardown_request
    def _close(exc):
        session = g.pop(_SESSION, None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def _discard_session() -> None:
    session = g.pop(_SESSION, None)
    if session is not None:
        session.rollback()
        session.close()
    g.pop(_ROLLBACK, None)


def _rewind_uploads() -> None:
    for storage in request.files.values():
        storage.stream.seek(0)


def _retrying(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, LOCK_ATTEMPTS + 1):
            try:
                result = view(*args, **kwargs)
                session = g.get(_SESSION)
                if session is not None and not g.get(_ROLLBACK):
                    session.flush()  # a lost lock shows here, where the view can still run again
                return result
            except OperationalError as exc:
                if attempt == LOCK_ATTEMPTS or not lost_only_the_lock(exc):
                    raise
                current_app.logger.info("%s lost the database lock; running it again", request.path)
                _discard_session()
                _rewind_uploads()
                setattr(g, _IMMEDIATE, True)  # the next attempt waits for the lock at BEGIN
        raise AssertionError("unreachable")

    return run


def install_lock_retry(app: Flask) -> None:
    """Wrap every view registered so far (call after the blueprints are registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if not getattr(view, "_citycase_retrying", False):
            wrapped = _retrying(view)
            wrapped._citycase_retrying = True  # type: ignore[attr-defined]
            app.view_functions[endpoint] = wrapped

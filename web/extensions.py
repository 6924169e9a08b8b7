"""Flask extensions and the per-request database session.

``app.extensions["citycase"]`` holds a :class:`CityCaseState` (config, SQLAlchemy engine and
session factory, clock). Views and API handlers call :func:`get_session` for the request's
session; it is committed once at the request boundary (``after_request``) when the response
status is below 400 and nobody called :func:`rollback`, rolled back otherwise, and closed at
teardown. Engine commands never commit, so a whole request is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
# Storage comes from app.config["RATELIMIT_STORAGE_URI"] (memory:// by default).
limiter = Limiter(key_func=get_remote_address)

_SESSION = "_citycase_session"
_ROLLBACK = "_citycase_rollback"


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
        session = state().factory()
        setattr(g, _SESSION, session)
    return session


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

"""Who is signed in, what they may do, and the engine context of a request.

* :func:`current_actor` — the signed-in user as an ``engine.model.Actor``; raises
  :class:`NotSignedIn` (HTTP 401; pages redirect to /login) when nobody is signed in.
* :func:`optional_actor` — the same, or ``None`` for anonymous visitors.
* :func:`role_required` — a view decorator: anonymous → sign-in, wrong role → ``Forbidden`` (403).
* :func:`authenticate` / :func:`sign_in` / :func:`sign_out` — password check and session login
  (Flask-Login). Inactive users never authenticate.
* :func:`engine_context` — ``EngineContext`` from the app config and the app's clock.

Who may see which task or case is decided in ``engine.queries.visibility`` (pages, API and
commands share it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, request, session
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.exceptions import Unauthorized

from engine.model import Actor, EngineContext
from engine.models import User
from engine.passwords import check_password, hash_password
from engine.sessions import SessionStamp, end_sessions, session_is_current
from web.extensions import get_session, login_manager, state
from web.messages import PageForbidden

F = TypeVar("F", bound=Callable[..., Any])

STAFF_ROLES = ("acceptor", "shift_leader", "dispatcher", "handler", "leader", "supervisor",
               "auditor", "designer", "admin")

_dummy_hash: str | None = None


def _dummy() -> str:
    """A real hash of a random password: an unknown user name costs the same time as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        import secrets

        _dummy_hash = hash_password(secrets.token_hex(16))
    return _dummy_hash


class NotSignedIn(Unauthorized):
    description = "Sign in first."


class SignedInUser(UserMixin):
    """What Flask-Login keeps per request: a detached snapshot of the User row."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role
        self.department_code = user.department_code
        self.district_code = user.district_code
        self.locale = user.locale
        self.active = user.active
        self.session_version = user.session_version or 0

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.department_code, self.district_code)


@login_manager.user_loader
def _load_user(user_id: str) -> SignedInUser | None:
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    user = get_session().get(User, uid)
    if user is None or not session_is_current(user, _stamp(), now(), _absolute()):
        return None  # signed out elsewhere, disabled, role changed, or too old: the session is over
    return SignedInUser(user)


def _stamp() -> SessionStamp | None:
    try:
        return SessionStamp(int(session["sv"]), datetime.fromisoformat(session["since"]))
    except (KeyError, TypeError, ValueError):
        return None


def _absolute() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_ABSOLUTE_HOURS"]))


def authenticate(username: str, password: str) -> SignedInUser | None:
    """The active user with this name and password, else None (429 while the account is throttled)."""
    from web.auth.throttle import check_account, record_failure

    check_account(username or "")
    user = get_session().scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        check_password(_dummy(), password or "")
    if user is None or not check_password(user.password_hash, password or "") or not user.active:
        record_failure(username or "")
        return None
    return SignedInUser(user)


def sign_in(user: SignedInUser) -> None:
    session.clear()  # a fresh session on sign-in (no fixation)
    session.permanent = True  # expires after SESSION_MINUTES idle (refreshed on every request)
    session["sv"] = user.session_version  # engine.sessions: the session ends when the user's version moves
    session["since"] = now().isoformat()
    login_user(user)
    if user.locale in ("zh_Hans_CN", "en"):
        session["lang"] = user.locale


def sign_out() -> None:
    """Sign out here and end every other session of this user (a saved cookie opens nothing)."""
    if current_user and current_user.is_authenticated:
        end_sessions(get_session(), int(current_user.id))
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def optional_actor() -> Actor | None:
    if current_user and current_user.is_authenticated:
        return current_user.actor()
    return None


def current_actor() -> Actor:
    actor = optional_actor()
    if actor is None:
        raise NotSignedIn()
    return actor


def is_api_request() -> bool:
    return request.path.startswith(("/api/", "/open311/"))


def role_required(*roles: str) -> Callable[[F], F]:
    """Only signed-in users with one of ``roles`` (any signed-in user when no role is given)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            if not (current_user and current_user.is_authenticated):
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                raise PageForbidden(_("This page is not part of your work: your role cannot open it."))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def engine_context() -> EngineContext:
    st = state()
    return EngineContext.from_config(st.config, st.clock)


def now():
    """The app clock's current instant (aware UTC)."""
    return state().clock.now()


def config() -> dict[str, Any]:
    return current_app.config

"""Sessions that end, and the password policy.

A signed-in session remembers the user's ``session_version`` at sign-in; a session whose version
is no longer the user's is over. The version is bumped (here, in one place) when the user signs
out, and — by an ORM hook, whatever code path changes the row — when the user is disabled, gets
another role, department or district, or a new password. So each of those ends every session of
that user at once, on every device, including cookies saved earlier.

The session's age is checked against an absolute limit (``SESSION_ABSOLUTE_HOURS``) besides the
idle limit (``SESSION_MINUTES``, enforced by the signed cookie's timestamp).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from engine.errors import NotFound, ValidationError
from engine.models import User
from engine.passwords import hash_password

# Changing any of these ends the user's sessions.
ENDING_FIELDS = ("active", "role", "department_code", "district_code", "password_hash", "totp_secret")
MIN_PASSWORD = 10
MAX_PASSWORD = 128
# The most common choices and the demo password: refused whatever their length.
COMMON_PASSWORDS = frozenset({
    "demo1234", "password", "password1", "password123", "12345678", "123456789", "1234567890",
    "qwertyuiop", "1q2w3e4r5t", "iloveyou", "admin123", "abc123456", "11111111", "00000000",
    "88888888", "66666666", "woaini1314", "qwerty123", "a123456789", "aa123456",
})


@dataclass(frozen=True)
class SessionStamp:
    """What a session keeps about its sign-in."""

    version: int
    signed_in_at: datetime


def end_sessions(session: Session, user_id: int) -> None:
    """End every session of the user (sign-out everywhere). Does not commit."""
    session.execute(update(User).where(User.id == user_id)
                    .values(session_version=User.session_version + 1))


def session_is_current(user: User, stamp: SessionStamp | None, now: datetime, absolute: timedelta) -> bool:
    """True while the session's version is the user's and it is younger than ``absolute``."""
    if stamp is None or not user.active:
        return False
    return stamp.version == (user.session_version or 0) and now - stamp.signed_in_at < absolute


@event.listens_for(User, "before_update")
def _bump_on_change(_mapper, connection, target: User) -> None:
    from sqlalchemy import inspect

    state = inspect(target)
    if any(state.attrs[name].history.has_changes() for name in ENDING_FIELDS):
        target.session_version = (target.session_version or 0) + 1


def password_problems(password: str, username: str) -> list[str]:
    """Why ``password`` may not be set (empty when it may)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        problems.append(f"at most {MAX_PASSWORD} characters")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"[0-9]", password)):
        problems.append("letters and digits")
    if password.lower() in COMMON_PASSWORDS:
        problems.append("not one of the most common passwords")
    if username and username.lower() in password.lower():
        problems.append("not containing the user name")
    if len(set(password)) < 5:
        problems.append("at least 5 different characters")
    return problems


def set_password(session: Session, username: str, password: str) -> User:
    """Set a new password under the policy; ends the user's sessions (ORM hook). Does not commit."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    problems = password_problems(password, username)
    if problems:
        raise ValidationError("the password must have: " + "; ".join(problems), {"password": "; ".join(problems)})
    user.password_hash = hash_password(password)
    session.flush()
    return user


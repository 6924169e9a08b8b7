"""Admin commands on staff accounts: create, change role/department/district, disable, reset password.

``district_code`` is the user's sub-center scope (None = the whole city). Disabling, a role,
department or district change and a new password end the user's sessions (engine.sessions' ORM
hook). Each change is recorded in the admin history with the account before and after (never
the password hash). None of these commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine import second_factor
from engine.admin.history import AdminKind, record, require_admin
from engine.errors import Conflict, NotFound, ValidationError
from engine.model import Actor, Role
from engine.models import Department, Region, User
from engine.passwords import hash_password
from engine.sessions import password_problems

#: Roles an admin may give (citizen and system are not accounts).
STAFF_ROLES: tuple[str, ...] = (Role.SUPERVISOR, Role.ACCEPTOR, Role.SHIFT_LEADER, Role.DISPATCHER, Role.HANDLER,
                                Role.LEADER, Role.AUDITOR, Role.DESIGNER, Role.ADMIN)
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


@dataclass(frozen=True)
class UserFields:
    display_name: str
    role: str
    department_code: str | None = None
    district_code: str | None = None


def snapshot(user: User) -> dict[str, Any]:
    """What the history keeps of an account (no password hash)."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "department_code": user.department_code, "district_code": user.district_code,
            "active": bool(user.active)}


def search(session: Session, text: str = "", limit: int = 200) -> list[User]:
    query = select(User).order_by(User.username).limit(limit)
    text = (text or "").strip()
    if text:
        like = f"%{text.lower()}%"
        query = query.where(or_(func.lower(User.username).like(like), func.lower(User.display_name).like(like),
                                func.lower(func.coalesce(User.department_code, "")).like(like)))
    return list(session.scalars(query))


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def _check(session: Session, fields: UserFields) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not fields.display_name.strip() or len(fields.display_name) > 100:
        problems["display_name"] = "1 to 100 characters"
    if fields.role not in STAFF_ROLES:
        problems["role"] = "not one of the allowed values"
    if fields.department_code:
        dept = session.get(Department, fields.department_code)
        if dept is None or not dept.active:
            problems["department_code"] = "no such active department"
    elif fields.role == Role.HANDLER:
        problems["department_code"] = "required"  # a handler works for a department (a leader may lead the city)
    if fields.district_code:
        region = session.get(Region, fields.district_code)
        if region is None or region.level != "district":
            problems["district_code"] = "no such district"
    return problems


def create_user(session: Session, actor: Actor, now: datetime, username: str, password: str,
                fields: UserFields) -> User:
    require_admin(actor)
    username = (username or "").strip()
    problems = _check(session, fields)
    if not _USERNAME.match(username):
        problems["username"] = "3 to 64 letters, digits or . _ - @"
    elif session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user name {username!r} is taken")
    pw = password_problems(password or "", username)
    if pw:
        problems["password"] = "; ".join(pw)
    if problems:
        raise ValidationError("the account has problems: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                              problems)
    user = User(username=username, display_name=fields.display_name.strip(), password_hash=hash_password(password),
                role=fields.role, department_code=fields.department_code or None,
                district_code=fields.district_code or None, active=True, session_version=0)
    session.add(user)
    session.flush()
    record(session, actor, now, AdminKind.USER_CREATED, username, None, snapshot(user))
    return user


def change_user(session: Session, actor: Actor, now: datetime, username: str, fields: UserFields) -> User:
    """Name, role, department, district; a role, department or district change ends the sessions."""
    require_admin(actor)
    user = get_user(session, username)
    problems = _check(session, fields)
    if problems:
        raise ValidationError("the account has problems: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                              problems)
    before = snapshot(user)
    user.display_name = fields.display_name.strip()
    user.role = fields.role
    user.department_code = fields.department_code or None
    user.district_code = fields.district_code or None
    session.flush()
    after = snapshot(user)
    if after != before:
        record(session, actor, now, AdminKind.USER_CHANGED, username, before, after)
    return user


def set_active(session: Session, actor: Actor, now: datetime, username: str, active: bool) -> User:
    """Disable (its sessions end at once) or enable an account; an admin cannot disable themselves."""
    require_admin(actor)
    user = get_user(session, username)
    if not active and user.username == actor.username:
        raise ValidationError("you cannot disable your own account", {"username": "yourself"})
    before = snapshot(user)
    user.active = active
    session.flush()
    if before["active"] != active:
        record(session, actor, now, AdminKind.USER_ENABLED if active else AdminKind.USER_DISABLED, username,
               before, snapshot(user))
    return user


def reset_password(session: Session, actor: Actor, now: datetime, username: str, password: str) -> User:
    """A new password under the policy; the user's sessions end. The history says only that it changed."""
    require_admin(actor)
    user = get_user(session, username)
    problems = password_problems(password or "", username)
    if problems:
        raise ValidationError("the password must have: " + "; ".join(problems), {"password": "; ".join(problems)})
    user.password_hash = hash_password(password)
    session.flush()
    record(session, actor, now, AdminKind.PASSWORD_RESET, username, None, {"password": "changed"})
    return user


def reset_second_factor(session: Session, actor: Actor, now: datetime, username: str) -> User:
    """Forget the user's authenticator secret (a lost phone): their sessions end and they enrol again."""
    require_admin(actor)
    user = get_user(session, username)
    enrolled = user.totp_secret is not None
    second_factor.reset(session, user.id)
    session.flush()
    record(session, actor, now, AdminKind.SECOND_FACTOR_RESET, username, {"second_factor": enrolled},
           {"second_factor": False})
    return user

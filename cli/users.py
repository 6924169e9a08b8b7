"""User commands: set a password (under the policy), disable/enable, change role, sign out everywhere.

Each change that must end the user's sessions does so through engine.sessions (disabling, a role
change and a new password by the ORM hook, ``sign-out`` explicitly). Password, disable, enable and
role go through ``engine.admin.users``, so they are in the admin history like the admin pages'
changes, with the operator as ``cli:<login name>``.
"""

from __future__ import annotations

import getpass

import click
from sqlalchemy import select

from cli.base import CliContext, cli, emit, fail, json_option
from engine.admin.users import (
    UserFields,
    change_user,
    create_user,
    reset_password,
    reset_second_factor,
    set_active,
)
from engine.clock import SystemClock
from engine.db import transaction
from engine.errors import CityCaseError
from engine.model import Actor, Role
from engine.models import User
from engine.sessions import end_sessions


def _operator() -> Actor:
    """The acting admin of a CLI change: whoever runs the command on the server."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container's numeric user)
        name = "unknown"
    return Actor(f"cli:{name}"[:64], Role.ADMIN)


def _now():
    return SystemClock().now()


ROLES = ("supervisor", "acceptor", "shift_leader", "dispatcher", "handler", "leader", "auditor", "designer", "admin")


@cli.group("user")
def user_group() -> None:
    """Manage staff accounts."""


def _change(ctx: CliContext, username: str, change) -> dict:
    try:
        with transaction(ctx.session_factory) as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise CityCaseError(f"no user {username!r}")
            change(s, user)
            s.flush()
            s.refresh(user)
            return {"username": user.username, "role": user.role, "active": user.active,
                    "session_version": user.session_version}
    except CityCaseError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


@user_group.command("set-password")
@click.argument("username")
@click.password_option(prompt="New password", help="the new password (asked when not given)")
@json_option
@click.pass_obj
def set_password_cmd(ctx: CliContext, username: str, password: str) -> None:
    """Set a user's password (at least 10 characters, letters and digits, not a common one)."""
    out = _change(ctx, username, lambda s, _u: reset_password(s, _operator(), _now(), username, password))
    emit(ctx, out, f"password of {username} set; their sessions have ended")


@user_group.command("disable")
@click.argument("username")
@json_option
@click.pass_obj
def disable(ctx: CliContext, username: str) -> None:
    """Disable an account: it cannot sign in and its sessions end at once."""
    out = _change(ctx, username, lambda s, _u: set_active(s, _operator(), _now(), username, False))
    emit(ctx, out, f"{username} disabled; their sessions have ended")


@user_group.command("enable")
@click.argument("username")
@json_option
@click.pass_obj
def enable(ctx: CliContext, username: str) -> None:
    """Enable a disabled account."""
    out = _change(ctx, username, lambda s, _u: set_active(s, _operator(), _now(), username, True))
    emit(ctx, out, f"{username} enabled")


@user_group.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@json_option
@click.pass_obj
def role(ctx: CliContext, username: str, role: str) -> None:
    """Give a user another role; their sessions end (they sign in again with the new role)."""
    out = _change(ctx, username, lambda s, u: change_user(
        s, _operator(), _now(), username, UserFields(u.display_name, role, u.department_code, u.district_code)))
    emit(ctx, out, f"{username} is now {role}; their sessions have ended")


@user_group.command("sign-out")
@click.argument("username")
@json_option
@click.pass_obj
def sign_out(ctx: CliContext, username: str) -> None:
    """End every session of a user now (e.g. a lost phone)."""
    out = _change(ctx, username, lambda s, u: end_sessions(s, u.id))
    emit(ctx, out, f"every session of {username} has ended")



@user_group.command("reset-second-factor")
@click.argument("username")
@json_option
@click.pass_obj
def reset_second_factor_cmd(ctx: CliContext, username: str) -> None:
    """Forget a user's authenticator secret (lost phone); they scan a new one at the next sign-in."""
    out = _change(ctx, username, lambda s, _u: reset_second_factor(s, _operator(), _now(), username))
    emit(ctx, out, f"second factor of {username} reset; their sessions have ended and they enrol again "
                   "at the next sign-in")


@user_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", "display_name", default="", help="the name shown on pages (default: the user name)")
@click.option("--department", default=None, help="department code (handlers, department leaders)")
@click.option("--district", default=None, help="district code: the sub-center the user works for (default: city)")
@click.password_option(prompt="Password", help="the password (asked when not given)")
@json_option
@click.pass_obj
def create(ctx: CliContext, username: str, role: str, display_name: str, department: str | None,
           district: str | None, password: str) -> None:
    """Create an account, e.g. a new city's first admin (later ones from the admin pages)."""
    fields = UserFields(display_name or username, role, department, district)
    try:
        with transaction(ctx.session_factory) as s:
            user = create_user(s, _operator(), _now(), username, password, fields)
            out = {"username": user.username, "role": user.role, "active": user.active}
    except CityCaseError as exc:
        fail(str(exc))
    emit(ctx, out, f"{username} created as {role}")

"""``citycase notify duty|contact|dead-letters``: the 24/7 duty rota, people's addresses, dead letters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click
from sqlalchemy import select

from cli.base import CliContext, cli, emit, fail, json_option
from engine.db import transaction
from engine.errors import CityCaseError


@cli.group()
def notify() -> None:
    """Notifications to people: who is on duty, their addresses, messages that never went out."""


@notify.command("duty")
@click.argument("username")
@click.option("--on/--off", "on_duty", required=True, help="on the 24/7 duty rota, or off it")
@json_option
@click.pass_obj
def notify_duty(ctx: CliContext, username: str, on_duty: bool) -> None:
    """Put USERNAME on (or take them off) the 24/7 duty rota: emergencies and their role's or
    department's messages reach them first, day or night."""
    from engine.notify.queries import set_on_duty

    try:
        with transaction(ctx.session_factory) as s:
            set_on_duty(s, username, on_duty)
    except CityCaseError as exc:
        fail(f"{exc}; list users with `citycase user --help`")
        return
    emit(ctx, {"user": username, "on_duty": on_duty}, f"{username}: {'on' if on_duty else 'off'} duty")


@notify.command("contact")
@click.argument("username")
@click.option("--email", default=None, help="e-mail address ('' to remove)")
@click.option("--phone", default=None, help="phone number for the SMS / instant-message gateway ('' to remove)")
@json_option
@click.pass_obj
def notify_contact(ctx: CliContext, username: str, email: str | None, phone: str | None) -> None:
    """Set USERNAME's e-mail address and phone number (the user may also edit them on their page)."""
    from engine.models import User
    from engine.notify.queries import preferences, save_preferences

    try:
        with transaction(ctx.session_factory) as s:
            user_id = s.scalar(select(User.id).where(User.username == username))
            if user_id is None:
                fail(f"no user {username!r}")
                return
            p = preferences(s, user_id)
            p = replace(p, email=p.email if email is None else email, phone=p.phone if phone is None else phone)
            saved = save_preferences(s, user_id, p)
    except CityCaseError as exc:
        fail(str(exc))
        return
    emit(ctx, {"user": username, "email": saved.email, "phone": saved.phone},
         f"{username}: e-mail {saved.email or '-'}, phone {saved.phone or '-'}")


@notify.command("dead-letters")
@click.option("--retry", "retry_id", type=int, default=None, help="send dead letter ID again at the next tick")
@json_option
@click.pass_obj
def notify_dead_letters(ctx: CliContext, retry_id: int | None) -> None:
    """List outbox messages given up on after every retry (also at /admin/notifications)."""
    from engine.clock import SystemClock
    from engine.notify.queries import dead_letters, retry_dead_letter

    try:
        with transaction(ctx.session_factory) as s:
            if retry_id is not None:
                retry_dead_letter(s, retry_id, SystemClock().now())
            letters = dead_letters(s)
    except CityCaseError as exc:
        fail(f"{exc}; run `citycase notify dead-letters` to list them")
        return
    rows: list[dict[str, Any]] = [{"id": d.id, "kind": d.kind, "user": d.user, "case": d.case, "attempts": d.attempts,
             "last_error": d.last_error} for d in letters]
    lines = [f"{r['id']:>6}  {r['kind']:<16} {r['user'] or '-':<20} {r['case'] or '-':<14} {r['last_error'][:80]}"
             for r in rows]
    emit(ctx, rows, "\n".join(lines) if lines else "no dead letters")

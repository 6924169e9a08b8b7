"""``citycase seed demo`` and ``citycase seed classes``."""

from __future__ import annotations

from typing import Any

import click

from cli.base import CliContext, cli, emit, fail, json_option
from engine.calendar import seed_calendar
from engine.db import transaction
from engine.demo.seed import DEMO_PASSWORD, city_exists, seed_demo
from engine.errors import CityCaseError
from engine.reference import load_classes

CALENDAR_YEARS = range(2024, 2028)


def _progress(line: str) -> None:
    click.echo(line, err=True)


@cli.group()
def seed() -> None:
    """Reference data and the demo city."""


@seed.command("classes")
@json_option
@click.pass_obj
def seed_classes(ctx: CliContext) -> None:
    """Insert or update the problem classification from engine/data/classes.csv."""
    try:
        with transaction(ctx.session_factory) as s:
            n = load_classes(s)
    except CityCaseError as exc:
        fail(str(exc))
        return
    emit(ctx, {"classes": n}, f"{n} problem classes loaded")


@seed.command("demo")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True,
              help="random seed: the same seed gives the same city")
@click.option("--if-empty", is_flag=True, help="do nothing (exit 0) when the database already holds a city")
@json_option
@click.pass_obj
def seed_demo_command(ctx: CliContext, seed_value: int, if_empty: bool) -> None:
    """Create the synthetic demo city 演示市 (DEMO ONLY: demo accounts share a public password)."""
    summary: dict[str, Any]
    try:
        with transaction(ctx.session_factory) as s:
            if city_exists(s):
                if not if_empty:
                    raise CityCaseError("the database already holds a city; use a fresh database "
                                        "(or pass --if-empty to skip seeding)")
                summary = {"skipped": True, "reason": "the database already holds a city"}
            else:
                classes = load_classes(s)
                _progress(f"classes {classes}/{classes}")
                summary = seed_demo(s, seed=seed_value, progress=_progress)
                summary["classes"] = classes
                summary["calendar_days"] = _seed_calendar(ctx, s)
    except (CityCaseError, ValueError) as exc:
        fail(str(exc))
        return
    if summary.get("skipped"):
        emit(ctx, summary, f"skipped: {summary['reason']}")
        return
    bbox = ", ".join(str(v) for v in summary["bbox"])
    text = "\n".join([
        f"{summary['city']} ({summary['city_en']}): {summary['districts']} districts, "
        f"{summary['streets']} streets, {summary['communities']} communities, "
        f"{summary['grid_cells']} grid cells, {summary['components']} components",
        f"{summary['departments']} departments, {summary['users']} users "
        f"(supervisor1…supervisor6, acceptor1, shiftleader1, dispatcher1, handler_<dept>, handler2_<dept>, "
        f"leader_<dept>, leader1, auditor1, designer1, designer2, admin1)",
        f"demo password for every account: {DEMO_PASSWORD} (demo only)",
        f"bbox {bbox}; center {summary['center'][0]}, {summary['center'][1]}",
    ])
    emit(ctx, summary, text)


def _seed_calendar(ctx: CliContext, session) -> int:
    days = seed_calendar(session, list(CALENDAR_YEARS), ctx.config["WORK_WINDOWS"], ctx.config["TIMEZONE"])
    _progress(f"calendar days {days} ({CALENDAR_YEARS.start}–{CALENDAR_YEARS.stop - 1})")
    return days


@seed.command("accounts")
@json_option
@click.pass_obj
def seed_accounts(ctx: CliContext) -> None:
    """List every active account (user name, role, name), grouped by role: who to sign in as in the demo."""
    from sqlalchemy import select

    from engine.demo.seed import ROLE_NAMES
    from engine.models import User

    with ctx.session_factory() as s:
        rows = s.execute(select(User.username, User.role, User.display_name).where(User.active.is_(True))
                         .order_by(User.role, User.username)).all()
    accounts = [{"username": u, "role": r, "name": n} for u, r, n in rows]
    order = list(ROLE_NAMES)
    lines = [f"{len(accounts)} accounts (demo password {DEMO_PASSWORD}, demo only):"]
    for role in sorted({a["role"] for a in accounts}, key=lambda r: order.index(r) if r in order else len(order)):
        lines.append(f"  {ROLE_NAMES.get(role, role)} ({role}):")
        lines += [f"    {a['username']:<36} {a['name']}" for a in accounts if a["role"] == role]
    emit(ctx, {"accounts": accounts}, "\n".join(lines))

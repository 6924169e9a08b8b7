"""``citycase patrol roster|attendance``: the supervisors' roster and their attendance per day."""

from __future__ import annotations

from datetime import date

import click

from cli.base import CliContext, cli, emit, fail, json_option
from engine.clock import SystemClock
from engine.db import transaction
from engine.errors import CityCaseError


@cli.group()
def patrol() -> None:
    """Supervisors on patrol: the roster and attendance (late, early, absent)."""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{text!r} is not a date like 2026-11-25")


@patrol.command("roster")
@click.argument("username")
@click.argument("day")
@click.argument("start")
@click.argument("end")
@click.option("--cells", default="", help="the grid cells to patrol, comma-separated 15-digit codes")
@json_option
@click.pass_obj
def roster(ctx: CliContext, username: str, day: str, start: str, end: str, cells: str) -> None:
    """Put USERNAME on DAY's roster from START to END (HH:MM, city time)."""
    from engine.patrol.roster import set_shift

    codes = [c.strip() for c in cells.split(",") if c.strip()]
    try:
        with transaction(ctx.session_factory) as s:
            shift = set_shift(s, username, _day(day), start, end, codes, ctx.config["TIMEZONE"])
    except CityCaseError as exc:
        fail(str(exc))
    emit(ctx, {"username": shift.username, "day": shift.day.isoformat(), "start": shift.start.isoformat(),
               "end": shift.end.isoformat(), "cells": list(shift.grid_codes)},
         f"{shift.username} on {shift.day}: {start}–{end}, {len(shift.grid_codes)} cells")


@patrol.command("attendance")
@click.option("--day", help="the day (default: today in the city's time zone)")
@json_option
@click.pass_obj
def attendance_cmd(ctx: CliContext, day: str | None) -> None:
    """Each rostered supervisor's attendance on a day, measured on the system clock."""
    from zoneinfo import ZoneInfo

    from engine.patrol.attendance import attendance

    now = SystemClock().now()
    when = _day(day) if day else now.astimezone(ZoneInfo(ctx.config["TIMEZONE"])).date()
    with ctx.session_factory() as s:
        rows = attendance(s, when, when, now)
    out = [{"username": r.username, "status": r.status.value, "late_minutes": r.late_minutes,
            "early_minutes": r.early_minutes} for r in rows]
    emit(ctx, out, "\n".join(f"{r['username']}: {r['status']}" for r in out) or f"nobody on the roster on {when}")

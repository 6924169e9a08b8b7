"""``citycase calendar seed|add|show|set``: the working-time calendar."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import click
from sqlalchemy import func, select

from cli.base import CliContext, cli, emit, fail, json_option
from engine.calendar import (
    SOURCE_ADMIN,
    SOURCE_HOLIDAYS,
    WorkCalendar,
    load_calendar,
    parse_windows,
    seed_calendar,
    set_day,
    source_for_year,
    windows_from_json,
)
from engine.db import transaction
from engine.model import UNITS
from engine.models import CalendarDay

DEFAULT_FROM_YEAR = 2024
DEFAULT_TO_YEAR = 2027
# ``calendar add`` seeds missing years on the fly, but not more than this many past the start year.
AUTO_SEED_MAX_YEARS = 10

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _settings(ctx: CliContext) -> tuple[str, str]:
    tz, windows = ctx.config["TIMEZONE"], ctx.config["WORK_WINDOWS"]
    try:
        WorkCalendar(None, windows, tz)
    except ValueError as exc:
        fail(f"bad calendar configuration (CITYCASE_TIMEZONE / CITYCASE_WORK_WINDOWS): {exc}")
    return tz, windows


def _rows_in_year(session, year: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    )


def _check_year(year: int, what: str) -> None:
    if not 1900 <= year <= 9998:
        fail(f"{what} {year} is out of range: give a year between 1900 and 9998")


@cli.group("calendar")
def calendar_group() -> None:
    """Working-time calendar: working days, work windows, deadline arithmetic."""


@calendar_group.command("seed")
@click.option("--from-year", type=int, default=DEFAULT_FROM_YEAR, show_default=True, help="first year to seed")
@click.option("--to-year", type=int, default=DEFAULT_TO_YEAR, show_default=True, help="last year to seed")
@json_option
@click.pass_obj
def calendar_seed(ctx: CliContext, from_year: int, to_year: int) -> None:
    """Seed one row per day from chinese_calendar (or holidays beyond its range); admin edits are kept."""
    _check_year(from_year, "--from-year")
    _check_year(to_year, "--to-year")
    if from_year > to_year:
        fail(f"--from-year {from_year} is after --to-year {to_year}: swap them")
    tz, windows = _settings(ctx)
    report: list[dict[str, Any]] = []
    with transaction(ctx.session_factory) as session:
        for year in range(from_year, to_year + 1):
            written = seed_calendar(session, [year], windows, tz)
            source = source_for_year(year)
            report.append({"year": year, "written": written, "source": source})
            if not ctx.as_json:
                line = f"{year}: {written} days written from {source}"
                if source == SOURCE_HOLIDAYS:
                    line += " (调休 make-up days may be missing: check and fix with `citycase calendar set`)"
                click.echo(line)
    total = sum(r["written"] for r in report)
    emit(ctx, {"years": report, "written": total}, f"calendar seeded: {total} days written")


def _parse_start(text: str, tz: str) -> datetime:
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        fail(f"bad START {text!r}: give an ISO local date-time such as 2026-09-30T10:00")
    if start.tzinfo is None:
        from zoneinfo import ZoneInfo

        start = start.replace(tzinfo=ZoneInfo(tz))
    return start


def _parse_amount(text: str) -> float:
    try:
        amount = float(text)
    except ValueError:
        fail(f"bad AMOUNT {text!r}: give a number such as 1, 2.5 or 15")
    if math.isnan(amount) or math.isinf(amount) or amount < 0:
        fail(f"bad AMOUNT {text!r}: give a finite number, zero or more")
    return amount


@calendar_group.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("start")
@click.argument("amount")
@click.argument("unit")
@json_option
@click.pass_obj
def calendar_add(ctx: CliContext, start: str, amount: str, unit: str) -> None:
    """Print the instant AMOUNT UNIT of working time after START.

    START is an ISO date-time, local (CITYCASE_TIMEZONE) when it has no offset, e.g. 2026-09-30T10:00.
    UNIT is minute, workhour or workday. Years without calendar rows are seeded first.
    """
    tz, windows = _settings(ctx)
    if unit not in UNITS:
        fail(f"unknown UNIT {unit!r}: use one of {', '.join(UNITS)}")
    begin = _parse_start(start, tz)
    value = _parse_amount(amount)
    seeded: list[int] = []
    tried: set[int] = set()
    with transaction(ctx.session_factory) as session:

        def ensure(years) -> bool:
            changed = False
            for year in years:
                if year in tried:
                    continue
                tried.add(year)
                if _rows_in_year(session, year) == 0:
                    seed_calendar(session, [year], windows, tz)
                    seeded.append(year)
                    changed = True
            return changed

        first_year = WorkCalendar(None, windows, tz).local_date(begin).year
        ensure([first_year])
        while True:
            calendar = load_calendar(session, tz, windows)
            try:
                end = calendar.add_working_time(begin, value, unit)
            except ValueError as exc:
                fail(str(exc))
            last_year = min(end.astimezone(calendar.tz).year, first_year + AUTO_SEED_MAX_YEARS)
            if not ensure(range(first_year, last_year + 1)):
                break
    if seeded:
        click.echo(f"note: seeded the calendar for {', '.join(map(str, seeded))}", err=True)
    start_local = begin.astimezone(calendar.tz).isoformat()
    end_local = end.astimezone(calendar.tz).isoformat()
    emit(ctx, {"start": start_local, "amount": value, "unit": unit, "end": end_local}, end_local)


@calendar_group.command("show")
@click.argument("year", type=int)
@json_option
@click.pass_obj
def calendar_show(ctx: CliContext, year: int) -> None:
    """List the non-standard days of YEAR: working weekends, weekdays off, other windows, admin edits."""
    _check_year(year, "YEAR")
    tz, windows = _settings(ctx)
    standard = parse_windows(windows)
    with transaction(ctx.session_factory) as session:
        rows = list(
            session.scalars(
                select(CalendarDay)
                .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
                .order_by(CalendarDay.day)
            )
        )
        days: list[dict[str, Any]] = []
        for row in rows:
            wins = windows_from_json(row.windows) if row.is_working else []
            if row.is_working and not wins:
                wins = standard
            if row.is_working == (row.day.weekday() < 5) and row.source != SOURCE_ADMIN and (
                not row.is_working or wins == standard
            ):
                continue
            days.append({
                "day": row.day.isoformat(),
                "weekday": _WEEKDAYS[row.day.weekday()],
                "is_working": row.is_working,
                "windows": ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in wins),
                "note": row.note,
                "source": row.source,
            })
    if not rows and not ctx.as_json:
        click.echo(f"note: no calendar rows for {year}; run `citycase calendar seed --from-year {year} "
                   f"--to-year {year}`", err=True)
    lines = [
        f"{d['day']} {d['weekday']} {'working ' + d['windows'] if d['is_working'] else 'off'}"
        f"{'  ' + d['note'] if d['note'] else ''}  [{d['source']}]"
        for d in days
    ]
    emit(ctx, {"year": year, "days": days}, "\n".join(lines) if lines else f"{year}: no non-standard days")


@calendar_group.command("set")
@click.argument("day")
@click.option("--working/--off", "is_working", default=None, help="make DAY a working day or a day off")
@click.option("--windows", default=None, help="work windows of a working day, e.g. 08:30-12:00 (default: standard)")
@click.option("--note", default="", help="why (shown by `calendar show`)")
@json_option
@click.pass_obj
def calendar_set(ctx: CliContext, day: str, is_working: bool | None, windows: str | None, note: str) -> None:
    """Edit one DAY (YYYY-MM-DD) as an admin; re-seeding keeps the edit."""
    try:
        when = date.fromisoformat(day)
    except ValueError:
        fail(f"bad DAY {day!r}: give a date such as 2027-02-20")
    if is_working is None:
        fail("say whether the day is worked: add --working or --off")
    if windows is not None:
        if not is_working:
            fail("--windows only applies to working days: drop it or use --working")
        try:
            parse_windows(windows)
        except ValueError as exc:
            fail(f"bad --windows: {exc}")
    _settings(ctx)
    with transaction(ctx.session_factory) as session:
        try:
            row = set_day(session, when, is_working, windows, note)
        except ValueError as exc:
            fail(str(exc))
        payload = {
            "day": row.day.isoformat(),
            "is_working": row.is_working,
            "windows": windows or ("default" if is_working else ""),
            "note": row.note,
            "source": row.source,
        }
    text = f"{payload['day']}: {'working' if is_working else 'off'}"
    if is_working:
        text += f" ({windows or 'default windows'})"
    emit(ctx, payload, text + (f"  {note}" if note else ""))

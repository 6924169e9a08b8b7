"""``citycase evaluate``: the evaluation (DOMAIN.md §6) of any period, as text, JSON or Excel — the
same numbers as /stats — and the monthly snapshots (freeze, verify)."""

from __future__ import annotations

from pathlib import Path

import click

from cli.base import CliContext, cli, emit, fail, json_option
from engine.clock import SystemClock
from engine.errors import CityCaseError

KINDS = ("region", "district", "street", "community", "grid", "department", "supervisor", "acceptor",
         "dispatcher", "shift_leader")


def _period(ctx: CliContext, first: str | None, last: str | None, period: str | None):
    from engine.evaluation.periods import days_period, month_of, parse_day, parse_period

    tz = ctx.config["TIMEZONE"]
    if period and (first or last):
        fail("give either --period or --from/--to")
    if period:
        return parse_period(period, tz)
    if first and last:
        return days_period(parse_day(first, "from"), parse_day(last, "to"), tz)
    if first or last:
        fail("give both --from and --to (dates, both included)")
    return month_of(SystemClock().now(), tz)


def _text(result, lang: str = "zh") -> str:
    from engine.evaluation.excel import header, rows

    lines = ["\t".join(header(result, lang))]
    for row in rows(result, lang):
        lines.append("\t".join("" if v is None else str(v) for v in row))
    return "\n".join(lines)


@cli.command("evaluate")
@click.option("--from", "first", help="first day (YYYY-MM-DD, local time)")
@click.option("--to", "last", help="last day, included (YYYY-MM-DD)")
@click.option("--period", help="a month (YYYY-MM) or a quarter (YYYYQn) instead of --from/--to")
@click.option("--kind", type=click.Choice(KINDS), default="department", show_default=True)
@click.option("--all-kinds", is_flag=True, help="every kind (JSON and Excel: one sheet per kind)")
@click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path), help="also write an Excel file")
@click.option("--snapshot", "snapshot_month", metavar="MONTH", help="freeze MONTH (YYYY-MM) now if not yet frozen")
@click.option("--verify-snapshot", "verify_month", metavar="MONTH",
              help="recompute a frozen MONTH (or 'all') from the events and report any difference")
@json_option
@click.pass_obj
def evaluate_command(ctx: CliContext, first, last, period, kind, all_kinds, xlsx, snapshot_month,
                     verify_month) -> None:
    """Rank regions, departments and staff for a period from the history events."""
    if snapshot_month or verify_month:
        _snapshots(ctx, snapshot_month, verify_month)
        return
    from engine.evaluation import Kind, evaluate
    from engine.evaluation.excel import workbook

    try:
        p = _period(ctx, first, last, period)
        with ctx.session_factory() as s:
            ev = evaluate(s, p)
    except CityCaseError as exc:
        fail(str(exc))
    kinds = list(Kind) if all_kinds else [Kind.DISTRICT if kind == "region" else Kind(kind)]
    results = [ev.kinds[k] for k in kinds]
    if xlsx:
        xlsx.write_bytes(workbook(results, ctx.config["TIMEZONE"], SystemClock().now()))
    payload = {"from": p.start.isoformat(), "to": p.end.isoformat(), "label": p.label,
               "kinds": {r.kind.value: r.as_dict() for r in results}}
    text = "\n\n".join(f"# {r.kind.value} {p.label}\n{_text(r)}" for r in results)
    if xlsx:
        text += f"\n\nwrote {xlsx}"
    emit(ctx, payload, text)


def _snapshots(ctx: CliContext, snapshot_month: str | None, verify_month: str | None) -> None:
    from engine.db import transaction
    from engine.evaluation.snapshots import freeze, verify_snapshots

    tz = ctx.config["TIMEZONE"]
    try:
        if snapshot_month:
            with transaction(ctx.session_factory) as s:
                snap = freeze(s, snapshot_month, tz, SystemClock().now())
            emit(ctx, {"month": snap.month, "hash": snap.hash}, f"snapshot {snap.month} {snap.hash}")
            return
        with ctx.session_factory() as s:
            report = verify_snapshots(s, None if verify_month == "all" else verify_month, tz)
    except CityCaseError as exc:
        fail(str(exc))
    emit(ctx, report.as_dict(), report.text())
    if not report.ok:
        raise SystemExit(1)


@cli.command("evaluation-weights")
@click.option("--set", "set_weight", nargs=3, metavar="KIND TERM WEIGHT",
              help="change a weight (0 removes the term); TERM is a rate, 'volume' or '100-<rate>'")
@click.option("--grade", nargs=2, metavar="GRADE MIN_SCORE", help="change (or add) a grade band")
@json_option
@click.pass_obj
def evaluation_weights(ctx: CliContext, set_weight, grade) -> None:
    """Show or change the composite-score weights and grade bands (data, seeded from DOMAIN.md §6)."""
    from engine.db import transaction
    from engine.evaluation.scoring import load_settings, set_grade
    from engine.evaluation.scoring import set_weight as change

    try:
        with transaction(ctx.session_factory) as s:
            if set_weight:
                kind, term, value = set_weight
                change(s, kind, term, _number(value))
            if grade:
                set_grade(s, grade[0], _number(grade[1]))
            settings = load_settings(s)
    except CityCaseError as exc:
        fail(str(exc))
    lines = [f"{kind.value}: " + ", ".join(f"{t} {w:g}" for t, w in sorted(terms.items()))
             for kind, terms in sorted(settings.weights.items())]
    lines.append("grades: " + ", ".join(f"{g} ≥ {m:g}" for g, m in settings.bands))
    emit(ctx, settings.as_dict(), "\n".join(lines))


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        fail(f"not a number: {text!r}")

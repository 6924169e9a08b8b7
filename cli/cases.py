"""Case commands: deploy, report, tasks, complete, history, simulate, demo-cases (verify: cli/audit.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from cli.base import CliContext, cli, emit, fail, json_option
from engine.clock import ManualClock, SystemClock
from engine.db import transaction
from engine.errors import CityCaseError
from engine.model import Actor, EngineContext
from engine.models import Case, Event, TaskRow, User


def _ctx(ctx: CliContext, clock=None) -> EngineContext:
    return EngineContext.from_config(ctx.config, clock or SystemClock())


def _actor(session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise CityCaseError(f"no active user {username!r}; see the demo accounts printed by `make demo`")
    return Actor(user.username, user.role, user.department_code, user.district_code)


def _run(fn):
    """Turn engine errors into a message on stderr and exit code 1 (the transaction rolled back)."""
    try:
        return fn()
    except CityCaseError as exc:
        fail(str(exc) + (f" {json.dumps(exc.fields, ensure_ascii=False)}" if getattr(exc, "fields", None) else ""))
    except (OSError, ValueError) as exc:
        fail(str(exc))
    except OperationalError as exc:
        if "database is locked" not in str(exc.orig):
            raise
        fail("the database is busy with another writer (a server or scheduler); nothing was saved — "
             "run the command again")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--by", "deployed_by", default="cli", help="who deploys (recorded)")
@json_option
@click.pass_obj
def deploy(ctx: CliContext, paths: tuple[str, ...], deployed_by: str) -> None:
    """Deploy BPMN/DMN/form files (a folder such as bpmn/ or single files) as a new version."""
    from engine.definitions import deploy as do_deploy
    from engine.definitions import read_definition_files

    def go():
        files = read_definition_files(list(paths))
        with transaction(ctx.session_factory) as s:
            row, created = do_deploy(s, files, deployed_by, SystemClock().now())
            return {"id": row.id, "process_id": row.process_id, "version": row.version, "sha256": row.sha256,
                    "state": row.state, "created": created, "files": sorted(files)}

    out = _run(go)
    emit(ctx, out, f"{'deployed' if out['created'] else 'already deployed'} {out['process_id']} "
                   f"version {out['version']} ({out['sha256'][:12]}), {out['state']}")


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--user", "username", default=None, help="reporting user (default: an anonymous citizen)")
@json_option
@click.pass_obj
def report(ctx: CliContext, file, username: str | None) -> None:
    """Start a case from a report document (JSON; '-' reads standard input)."""
    from engine.commands import start_case

    try:
        doc = json.load(file)
    except json.JSONDecodeError as exc:
        fail(f"the report is not valid JSON: {exc}")

    def go():
        with transaction(ctx.session_factory) as s:
            actor = _actor(s, username) if username else Actor("citizen", "citizen")
            return start_case(s, _ctx(ctx), doc, actor).as_dict()

    out = _run(go)
    emit(ctx, out, f"case {out['number']} started ({out['status']})")


@cli.command()
@click.option("--role")
@click.option("--department")
@click.option("--user", "username", help="tasks claimed by this user")
@click.option("--case", "case_ref", help="case number or id")
@click.option("--limit", default=50, show_default=True)
@json_option
@click.pass_obj
def tasks(ctx: CliContext, role, department, username, case_ref, limit: int) -> None:
    """List open tasks from the task projection."""
    with ctx.session_factory() as s:
        q = select(TaskRow, Case.number).join(Case, Case.id == TaskRow.case_id)
        if role:
            q = q.where(TaskRow.role == role)
        if department:
            q = q.where(TaskRow.department_code == department)
        if username:
            q = q.where(TaskRow.assignee == username)
        if case_ref:
            q = q.where((Case.number == case_ref) | (Case.id == _int_or(case_ref)))
        rows = s.execute(q.order_by(TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.id).limit(limit)).all()
    out = [{"task_id": t.id, "case": number, "task": t.spec_id, "name": t.name, "role": t.role,
            "department": t.department_code, "district": t.district_code, "assignee": t.assignee,
            "due_at": t.due_at.isoformat() if t.due_at else None} for t, number in rows]
    text = "\n".join(f"{o['task_id']}  {o['case']}  {o['task']:<20} {o['role']:<12} {o['department'] or '-':<22} "
                     f"due {o['due_at'] or '-'}" for o in out) or "no open tasks"
    emit(ctx, out, text)


def _int_or(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 12 else -1


@cli.command()
@click.argument("task_id")
@click.option("--user", "username", required=True, help="the user completing the task")
@click.option("--data", "data_json", default="{}", help="form data as JSON")
@json_option
@click.pass_obj
def complete(ctx: CliContext, task_id: str, username: str, data_json: str) -> None:
    """Complete a task with form data (validated against the task's form)."""
    from engine.commands import complete_task

    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as exc:
        fail(f"--data is not valid JSON: {exc}")

    def go():
        with transaction(ctx.session_factory) as s:
            return complete_task(s, _ctx(ctx), task_id, _actor(s, username), data).as_dict()

    out = _run(go)
    emit(ctx, out, f"case {out['number']}: task completed, case is {out['status']}")


@cli.command()
@click.argument("case_ref")
@json_option
@click.pass_obj
def history(ctx: CliContext, case_ref: str) -> None:
    """Show a case's history events (hash chain included)."""
    with ctx.session_factory() as s:
        case = s.scalar(select(Case).where((Case.number == case_ref) | (Case.id == _int_or(case_ref))))
        if case is None:
            fail(f"no case {case_ref!r}")
        events = s.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq)).all()
    out = {"case": case.number, "status": case.status, "events": [
        {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "task": e.task_spec,
         "task_id": e.task_id, "data": json.loads(e.data), "hash": e.hash} for e in events]}
    text = "\n".join(f"{e['seq']:>3} {e['at']} {e['actor']:<28} {e['kind']:<9} {e['task'] or ''}"
                     for e in out["events"])
    emit(ctx, out, f"case {case.number} ({case.status})\n{text}")


def _sim_start(start: str | None) -> datetime:
    if start:
        value = datetime.fromisoformat(start)
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday, 08:00 in Shanghai


@cli.command()
@click.option("--cases", type=int, help="drive N reports each to its end")
@click.option("--days", type=int, help="simulate D days of reports")
@click.option("--cases-per-day", type=int, default=300, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--start", help="simulated start instant (ISO; default 2026-03-02T00:00Z)")
@click.option("--field", is_flag=True, help="then the field at the simulated end: a flood gauge's alarm, "
              "the other devices, and a patrol day (roster, duty, tracks)")
@json_option
@click.pass_obj
def simulate(ctx: CliContext, cases, days, cases_per_day, seed, start, field) -> None:
    """Run the demo city on a simulated clock and print a summary of outcomes and branches."""
    from engine.demo.simulate import Simulator

    if (cases is None) == (days is None):
        fail("give exactly one of --cases N or --days D")
    if (cases is not None and cases < 1) or (days is not None and days < 1) or cases_per_day < 1:
        fail("counts must be positive")
    clock = ManualClock(_sim_start(start))

    def go():
        sim = Simulator(ctx.session_factory, _ctx(ctx, clock), seed, progress=lambda m: click.echo(m, err=True))
        result = sim.run(cases=cases, days=days, cases_per_day=cases_per_day)
        if field:
            result["field"] = _field(ctx, clock.now(), seed)
        return result

    out = _run(go)
    text = json.dumps(out, ensure_ascii=False, indent=2)
    emit(ctx, out, text)


@cli.command("demo-cases")
@click.option("--count", default=300, show_default=True)
@click.option("--if-empty", is_flag=True, help="do nothing when cases exist")
@json_option
@click.pass_obj
def demo_cases(ctx: CliContext, count: int, if_empty: bool) -> None:
    """Fill the demo city with simulated cases in every state, ending near the present time."""
    from datetime import timedelta

    from engine.demo.simulate import Simulator

    with ctx.session_factory() as s:
        existing = s.scalar(select(func.count(Case.id))) or 0
    if existing and if_empty:
        emit(ctx, {"skipped": True, "cases": existing}, f"{existing} cases exist; nothing to do")
        return
    # Two months of reports ending now: the open tasks at the end are fresh, so the inbox shows
    # green, yellow and red lights as a working center would (not only overdue leftovers).
    days = 60
    now = SystemClock().now()
    clock = ManualClock(now - timedelta(days=days))

    def go():
        sim = Simulator(ctx.session_factory, _ctx(ctx, clock), 7, progress=lambda m: click.echo(m, err=True))
        # Besides the cases in flight, some handling tasks are left in each light (engine.demo.simulate).
        return sim.run(days=days + 1, cases_per_day=max(1, count // days), until=now,
                       per_light=max(4, count // 30))

    out = _run(go)
    field = _run(lambda: _field(ctx, now, 7))
    emit(ctx, {"cases": out["cases"], "outcomes": out["outcomes"], "field": field},
         f"{out['cases']} demo cases: {json.dumps(out['outcomes'], ensure_ascii=False)}\n"
         f"field: flood case {field['flood_case']} (gauge {field['gauge']}), {field['supervisors']} supervisors "
         f"on patrol with {field['positions']} positions — shift leaders see them on /patrol/map")


def _field(ctx: CliContext, end: datetime, seed: int) -> dict:
    """The demo's devices (the flood at the underpass) and today's patrols, ending at ``end``."""
    from engine.demo.field import FLOOD_GAUGE, flood, patrol

    tz = ctx.config["TIMEZONE"]
    water = flood(ctx.session_factory, end, tz, seed)
    walks = patrol(ctx.session_factory, end, tz, seed)
    return {"gauge": FLOOD_GAUGE, "flood_case": water.flood_case, "flood_readings": water.outcomes,
            "silent_device_cases": water.silent_cases, "supervisors": walks.supervisors,
            "positions": walks.positions}


__all__ = ["Path"]

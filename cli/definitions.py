"""``citycase definitions list|show|diff|propose|approve|rollback`` and ``citycase migrate``.

Four eyes are enforced by the engine (engine.designer.lifecycle); ``--user`` names an existing,
active account whose role the engine checks. Every command reads the clock once and commits
once; ``migrate`` commits each case on its own so one refused case does not undo the others.
"""

from __future__ import annotations

import click
from sqlalchemy import select

from cli.base import CliContext, cli, emit, fail, json_option
from engine.clock import SystemClock
from engine.db import transaction
from engine.errors import CityCaseError, NotFound
from engine.model import Actor


def _actor(session, username: str) -> Actor:
    from engine.models import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise NotFound(f"no active user {username!r}")
    return Actor(user.username, user.role, user.department_code, user.district_code)


def _refused(ctx: CliContext, exc: CityCaseError) -> None:
    problems = getattr(exc, "problems", None)
    if problems:
        if ctx.as_json:
            emit(ctx, {"error": str(exc), "problems": [p.as_dict() for p in problems]})
        else:
            for p in problems:
                click.echo(f"  [{p.kind}] {p.text()}", err=True)
    fail(str(exc))


@cli.group()
def definitions() -> None:
    """Process definition versions: propose, approve (another designer), roll back, compare."""


@definitions.command("list")
@click.option("--process", "process_id", default=None, help="only this process id")
@json_option
@click.pass_obj
def list_command(ctx: CliContext, process_id: str | None) -> None:
    """Every version with its state, proposer, approver and case counts."""
    from engine.designer.lifecycle import list_versions

    with transaction(ctx.session_factory) as s:
        versions = list_versions(s, process_id)
    lines = [f"{v.id:>4}  {v.process_id} v{v.version}  {v.state:<8}  proposed by {v.proposed_by} "
             f"{v.proposed_at:%Y-%m-%d %H:%M}  approved by {v.approved_by or '-'}  "
             f"open {v.open_cases}  closed {v.closed_cases}  {v.sha256[:12]}" for v in versions]
    emit(ctx, [v.as_dict() for v in versions], "\n".join(lines) or "no versions")


@definitions.command("show")
@click.argument("version_id", type=int)
@json_option
@click.pass_obj
def show_command(ctx: CliContext, version_id: int) -> None:
    """One version: its files and its history."""
    from engine.designer.lifecycle import history, version_files, version_info

    try:
        with transaction(ctx.session_factory) as s:
            info = version_info(s, version_id)
            files = sorted(version_files(s, version_id))
            events = [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "hash": e.hash}
                      for e in history(s, version_id)]
    except CityCaseError as exc:
        fail(str(exc))
        return
    out = {**info.as_dict(), "files": files, "history": events}
    text = "\n".join([f"version {info.id}: {info.process_id} v{info.version} ({info.state}) {info.sha256}",
                      f"proposed by {info.proposed_by}, approved by {info.approved_by or '-'}",
                      "files: " + ", ".join(files),
                      *[f"  #{e['seq']} {e['at']} {e['kind']} by {e['actor']}" for e in events]])
    emit(ctx, out, text)


@definitions.command("diff")
@click.argument("old_id", type=int)
@click.argument("new_id", type=int)
@json_option
@click.pass_obj
def diff_command(ctx: CliContext, old_id: int, new_id: int) -> None:
    """BPMN elements, DMN rules and form fields added, removed or changed from OLD_ID to NEW_ID."""
    from engine.designer.diff import diff_files
    from engine.designer.lifecycle import version_files

    try:
        with transaction(ctx.session_factory) as s:
            d = diff_files(version_files(s, old_id), version_files(s, new_id))
    except CityCaseError as exc:
        fail(str(exc))
        return
    lines = [f"+ file {f}" for f in d.added_files] + [f"- file {f}" for f in d.removed_files]
    sign = {"added": "+", "removed": "-", "changed": "~"}
    for c in d.changes:
        detail = f"{c.before} → {c.after}" if c.change == "changed" else (c.after or c.before)
        lines.append(f"{sign[c.change]} {c.file} {c.kind} {c.element_id}: {detail}")
    emit(ctx, d.as_dict(), "\n".join(lines) or "no differences")


@definitions.command("propose")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--user", "username", required=True, help="the proposing designer")
@json_option
@click.pass_obj
def propose_command(ctx: CliContext, paths: tuple[str, ...], username: str) -> None:
    """Validate FILES (or folders) and store them as a proposal; every problem is listed."""
    from engine.definitions import read_definition_files
    from engine.designer.lifecycle import propose

    try:
        files = read_definition_files(list(paths))
        with transaction(ctx.session_factory) as s:
            row = propose(s, files, _actor(s, username), SystemClock().now())
            out = {"id": row.id, "process_id": row.process_id, "version": row.version, "sha256": row.sha256,
                   "state": row.state}
    except CityCaseError as exc:
        _refused(ctx, exc)
        return
    emit(ctx, out, f"proposed version {out['id']} ({out['process_id']} v{out['version']}); "
                   "another designer must approve it")


def _transition(ctx: CliContext, version_id: int, username: str, action) -> None:
    try:
        with transaction(ctx.session_factory) as s:
            row = action(s, version_id, _actor(s, username), SystemClock().now())
            out = {"id": row.id, "process_id": row.process_id, "version": row.version, "state": row.state}
    except CityCaseError as exc:
        fail(str(exc))
        return
    emit(ctx, out, f"version {out['id']} ({out['process_id']} v{out['version']}) is now {out['state']}")


@definitions.command("approve")
@click.argument("version_id", type=int)
@click.option("--user", "username", required=True, help="the approving designer (not the proposer)")
@json_option
@click.pass_obj
def approve_command(ctx: CliContext, version_id: int, username: str) -> None:
    """Approve a proposal: it becomes the active version for new cases."""
    from engine.designer.lifecycle import approve

    _transition(ctx, version_id, username, approve)


@definitions.command("rollback")
@click.argument("version_id", type=int)
@click.option("--user", "username", required=True, help="the designer rolling back")
@json_option
@click.pass_obj
def rollback_command(ctx: CliContext, version_id: int, username: str) -> None:
    """Make an earlier, once-active version active again."""
    from engine.designer.lifecycle import rollback

    _transition(ctx, version_id, username, rollback)


@cli.command("migrate")
@click.option("--to", "to_id", type=int, required=True, help="the version to move open cases to")
@click.option("--dry-run", is_flag=True, help="only list which cases can move and why others cannot")
@click.option("--case", "case_ref", default=None, help="only this case (number or id)")
@click.option("--user", "username", default="system", show_default=True, help="who migrates (recorded)")
@json_option
@click.pass_obj
def migrate_command(ctx: CliContext, to_id: int, dry_run: bool, case_ref: str | None, username: str) -> None:
    """Move open cases to version --to; each case in its own transaction, recorded in its history."""
    from engine.designer.migration import move, plan

    try:
        with transaction(ctx.session_factory) as s:
            case_ids = [_case_id(s, case_ref)] if case_ref else None
            checks = plan(s, to_id, case_ids)
    except CityCaseError as exc:
        fail(str(exc))
        return
    if dry_run:
        lines = [f"{c.number}: " + ("can move" if c.movable else "cannot move: " + c.reason_text())
                 for c in checks]
        emit(ctx, {"to": to_id, "cases": [c.as_dict() for c in checks]}, "\n".join(lines) or "no open cases to move")
        return
    moved, refused = [], [{"case_id": c.case_id, "number": c.number, "reason": c.reason_text()}
                          for c in checks if not c.movable]
    movable = [c for c in checks if c.movable]
    now = SystemClock().now()
    for n, check in enumerate(movable, start=1):
        try:
            with transaction(ctx.session_factory) as s:
                moved.append(move(s, check.case_id, to_id, username, now, ctx.config["AUDIT_HASH"]).as_dict())
        except CityCaseError as exc:
            refused.append({"case_id": check.case_id, "number": check.number, "reason": str(exc)})
        if n % 50 == 0 or n == len(movable):
            click.echo(f"migrated {n}/{len(movable)}", err=True)
    emit(ctx, {"to": to_id, "moved": moved, "not_moved": refused},
         f"moved {len(moved)} case(s) to version {to_id}; {len(refused)} not moved"
         + "".join(f"\n  {r['number']}: {r['reason']}" for r in refused))
    if case_ref and refused:
        raise SystemExit(1)


def _case_id(session, ref: str) -> int:
    from engine.models import Case

    found = session.scalar(select(Case.id).where(Case.number == ref))
    if found is None and ref.isdigit() and len(ref) < 12:
        found = session.scalar(select(Case.id).where(Case.id == int(ref)))
    if found is None:
        raise NotFound(f"case {ref} does not exist")
    return found


@definitions.command("whatif")
@click.argument("old_id", type=int)
@click.argument("new_id", type=int)
@click.option("--days", type=int, default=3, show_default=True, help="simulated days of reports")
@click.option("--cases-per-day", type=int, default=40, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="the same seed gives the same reports")
@click.option("--replay-days", type=int, default=0, show_default=True,
              help="also replay the real reports of the last N days on both versions (0 = not)")
@json_option
@click.pass_obj
def whatif_command(ctx: CliContext, old_id: int, new_id: int, days: int, cases_per_day: int, seed: int,
                   replay_days: int) -> None:
    """Run both versions on the simulated city (throw-away databases) and compare the figures;
    with --replay-days, also on the last days of real reports replayed on a simulated clock."""
    from engine.designer.lifecycle import version_files
    from engine.designer.whatif import compare, replay

    try:
        with transaction(ctx.session_factory) as s:
            before, after = version_files(s, old_id), version_files(s, new_id)
        result = compare(before, after, seed=seed, days=days, cases_per_day=cases_per_day, config=ctx.config)
        replayed = None
        if replay_days:
            with transaction(ctx.session_factory) as s:
                replayed = replay(s, before, after, days=replay_days, now=SystemClock().now(), seed=seed,
                                  config=ctx.config)
    except CityCaseError as exc:
        fail(str(exc))
        return
    text = _figures_text(result, old_id, new_id, "simulated city")
    out = result.as_dict()
    if replayed is not None:
        out["replay"] = replayed.as_dict()
        text += "\n\n" + _figures_text(replayed, old_id, new_id,
                                        f"{replayed.reports} real reports of the last {replay_days} days, replayed")
    emit(ctx, out, text)


def _figures_text(result, old_id: int, new_id: int, title: str) -> str:
    b, a = result.before, result.after
    rows = [("cases", b.cases, a.cases), ("closed", b.closed, a.closed), ("deadline met", b.met, a.met),
            ("warned", b.warned, a.warned), ("overdue", b.overdue, a.overdue),
            ("escalations", b.escalations, a.escalations),
            ("mean hours to close", b.mean_hours_to_close, a.mean_hours_to_close)]
    for dept in sorted(set(b.per_department) | set(a.per_department)):
        rows.append((f"cases of {dept}", b.per_department.get(dept, 0), a.per_department.get(dept, 0)))
    return "\n".join([f"{title:<32}{'#' + str(old_id):>10}{'#' + str(new_id):>10}",
                      *[f"{label:<32}{str(x):>10}{str(y):>10}" for label, x, y in rows]])

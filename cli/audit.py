"""Audit commands: ``verify``, ``checkpoint create|export|public-key`` and ``erase-reporter``.

Exit codes: 0 = verified (or done), 1 = problems found (or the command was refused), 2 = bad
usage (unknown case, unreadable file or key, options that do not go together).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError

from cli.base import CliContext, cli, emit, fail, json_option

USAGE = 2


def _progress(ctx: CliContext):
    """A progress bar on stderr (only on a terminal, so logs and pipes stay clean)."""
    if not sys.stderr.isatty():
        return None, None
    bar = click.progressbar(length=1, label="verifying", file=sys.stderr, show_pos=True)
    bar.__enter__()

    def update(done: int, total: int) -> None:
        bar.length = max(total, 1)
        bar.update(done - bar.pos)

    return bar, update


def _read_public_key(path: str | None):
    from engine.audit.signing import KeyFileError, load_public

    if path is None:
        return None
    try:
        return load_public(Path(path).read_bytes())
    except (OSError, KeyFileError) as exc:
        fail(f"cannot read the public key {path}: {exc}", USAGE)


def _read_export(path: str):
    from engine.audit.checkpoints import parse_export

    try:
        return tuple(parse_export(json.loads(Path(path).read_text(encoding="utf-8"))))
    except (OSError, ValueError) as exc:
        fail(f"cannot read the checkpoint export {path}: {exc}", USAGE)


@cli.command()
@click.option("--chain-only", is_flag=True, help="hash chains and case rows only, without replaying each case")
@click.option("--case", "case_refs", multiple=True, metavar="NUMBER", help="only these case numbers")
@click.option("--against", "against_file", type=click.Path(dir_okay=False),
              help="a checkpoint export (citycase checkpoint export) the history must still contain")
@click.option("--public-key", "public_key_file", type=click.Path(dir_okay=False),
              help="the public key the checkpoints must be signed with (required with --against)")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="processes to verify with; 0 = one per core")
@json_option
@click.pass_obj
def verify(ctx: CliContext, chain_only: bool, case_refs: tuple[str, ...], against_file: str | None,
           public_key_file: str | None, workers: int) -> None:
    """Check the whole history: every case's hash chain, its case row against its events, a replay of
    each case (unless --chain-only), the case-number sequence and the signed checkpoints.

    Exit 0 when everything verifies, 1 when problems were found (each names the case and event),
    2 on bad usage.
    """
    from engine.audit import Options
    from engine.audit.signing import KeyFileError, local_public_key

    if against_file and not public_key_file:
        fail("--against needs --public-key: an export is never its own trust anchor; give the public key "
             "you were handed separately", USAGE)
    key = _read_public_key(public_key_file)
    if key is None:
        try:
            key = local_public_key(ctx.config)
        except KeyFileError as exc:
            fail(str(exc), USAGE)
    against = _read_export(against_file) if against_file else None
    options = Options(full=not chain_only, workers=workers, public_key=key, against=against)
    try:
        report = _verify(ctx, options, case_refs)
    except DBAPIError as exc:  # the schema, not the data: e.g. a database that was never migrated
        fail(f"cannot read the history ({type(exc.orig).__name__}: {exc.orig}); is this a citycase database "
             f"at the current migration (citycase db upgrade)?", USAGE)
    lines = [str(p) for p in report.problems] + [f"note: {n}" for n in report.notes]
    summary = (f"{report.checked} cases checked: " + ("everything verifies" if report.ok
                                                       else f"{len(report.problems)} problem(s)"))
    emit(ctx, report.as_dict(), "\n".join(lines + [summary]))
    if not report.ok:
        sys.exit(1)


def _verify(ctx: CliContext, options, case_refs: tuple[str, ...]):
    from engine.audit import run, verify_cases

    if case_refs:
        with ctx.session_factory() as s:
            try:
                return verify_cases(s, list(case_refs), full=options.full)
            except LookupError as exc:
                fail(f"{exc.args[0]}; give case numbers as shown by `citycase history`", USAGE)
    bar, update = _progress(ctx)
    try:
        return run(ctx.session_factory, options, progress=update)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


@cli.group()
def checkpoint() -> None:
    """Signed checkpoints of the global event log (made by the scheduler every N events or M minutes)."""


@checkpoint.command("create")
@json_option
@click.pass_obj
def checkpoint_create(ctx: CliContext) -> None:
    """Sign a checkpoint over every event now in the history."""
    from engine.audit import checkpoints
    from engine.audit.signing import KeyFileError, signing_key
    from engine.clock import SystemClock
    from engine.db import transaction

    try:
        key = signing_key(ctx.config)
    except KeyFileError as exc:
        fail(str(exc), USAGE)
    with transaction(ctx.session_factory) as s:
        made = checkpoints.create(s, key, ctx.config["AUDIT_HASH"], SystemClock().now())
    if made is None:
        emit(ctx, {"created": None}, "no new events since the last checkpoint; nothing to sign")
        return
    b = made.body
    emit(ctx, {"created": made.as_dict()},
         f"checkpoint signed: {b.tree_size} events (up to id {b.last_event_id}), root {b.root[:16]}…, "
         f"{b.hash_alg}/{b.sig_alg}, key {b.key_id[:16]}…")


@checkpoint.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@json_option
@click.pass_obj
def checkpoint_export(ctx: CliContext, file: str) -> None:
    """Write every signed checkpoint to FILE (JSON) for an outside party to keep.

    Hand them the public key separately (citycase checkpoint public-key): the export names the
    key by fingerprint but is never its own trust anchor.
    """
    from engine.audit import checkpoints

    with ctx.session_factory() as s:
        saved = checkpoints.stored(s)
    if not saved:
        fail("there are no checkpoints yet; run `citycase checkpoint create` (or the scheduler) first")
    doc = checkpoints.export(saved)
    try:
        Path(file).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {file}: {exc}", USAGE)
    emit(ctx, {"file": file, "checkpoints": len(saved), "key_ids": doc["key_ids"]},
         f"{len(saved)} checkpoint(s) written to {file}; signed by key(s) {', '.join(doc['key_ids'])}")


@checkpoint.command("public-key")
@click.argument("file", required=False, type=click.Path(dir_okay=False, writable=True))
@click.pass_obj
def checkpoint_public_key(ctx: CliContext, file: str | None) -> None:
    """Print (or write to FILE) the public key that verifies the checkpoints, with its fingerprint."""
    from engine.audit.signing import KeyFileError, signing_key

    try:
        public = signing_key(ctx.config).public
    except KeyFileError as exc:
        fail(str(exc), USAGE)
    if file:
        Path(file).write_text(public.export(), encoding="utf-8")
        click.echo(f"public key ({public.algorithm}) written to {file}; fingerprint {public.fingerprint}")
    else:
        click.echo(public.export(), nl=False)
        click.echo(f"fingerprint: {public.fingerprint}", err=True)


@cli.command("erase-reporter")
@click.argument("number")
@click.option("--by", "username", required=True, help="the admin who carries out the request (recorded)")
@json_option
@click.pass_obj
def erase_reporter_command(ctx: CliContext, number: str, username: str) -> None:
    """Erase the reporter's personal data from case NUMBER (PIPL request); the history stays verifiable."""
    from sqlalchemy import select

    from engine.clock import SystemClock
    from engine.commands.erasure import erase_reporter
    from engine.db import transaction
    from engine.errors import CityCaseError, NotFound
    from engine.model import Actor, EngineContext, Role
    from engine.models import User

    try:
        with transaction(ctx.session_factory) as s:
            user = s.scalar(select(User).where(User.username == username, User.active.is_(True)))
            if user is None or user.role != Role.ADMIN:
                fail(f"{username!r} is not an active admin; only admins erase personal data", USAGE)
            actor = Actor(user.username, user.role, user.department_code, user.district_code)
            result = erase_reporter(s, EngineContext.from_config(ctx.config, SystemClock()), number, actor)
    except NotFound as exc:
        fail(str(exc), USAGE)
    except CityCaseError as exc:
        fail(str(exc))
    emit(ctx, {"case": result.number, "seq": result.seq},
         f"reporter of case {result.number} erased (history event {result.seq})")

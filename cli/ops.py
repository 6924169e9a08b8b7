"""Operating commands: ``citycase backup FILE`` and ``citycase restore FILE``.

Exit codes: 0 = done (and, for restore, the restored history verifies), 1 = refused or failed
(the message says why; nothing is left half-written), 2 = bad usage.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.base import CliContext, cli, emit, fail, json_option


class _Progress:
    """Progress on stderr: a percentage every tenth on SQLite, pg_dump's own lines on PostgreSQL."""

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.shown = -1

    def __call__(self, done: int, total: int | None, note: str) -> None:
        if total:
            tenth = done * 10 // total
            if tenth != self.shown:
                self.shown = tenth
                click.echo(f"{self.verb}: {tenth * 10}% ({done}/{total} {note})", err=True)
        elif note:
            click.echo(f"{self.verb}: {note}", err=True)


@cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace FILE if it exists")
@json_option
@click.pass_obj
def backup_command(ctx: CliContext, file: Path, force: bool) -> None:
    """Copy the whole database into FILE while citycase keeps running.

    SQLite: an SQLite file made with SQLite's online backup API. PostgreSQL: a pg_dump archive
    (custom format; pg_dump must be installed).
    """
    from engine.backup import BackupError, backup

    try:
        result = backup(ctx.config["DATABASE_URL"], file, _Progress("backup"), overwrite=force)
    except BackupError as exc:
        fail(str(exc))
    emit(ctx, {"file": result.path, "backend": result.backend.value, "bytes": result.bytes},
         f"backed up the {result.backend} database into {result.path} ({result.bytes} bytes)")


@cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="overwrite a database that already holds tables")
@json_option
@click.pass_context
def restore_command(click_ctx: click.Context, file: Path, force: bool) -> None:
    """Replace the database with the backup in FILE, then verify the restored history.

    Refuses a database that already holds tables unless --force is given.
    """
    from cli.audit import verify
    from engine.backup import BackupError, restore

    ctx: CliContext = click_ctx.obj
    try:
        result = restore(ctx.config["DATABASE_URL"], file, _Progress("restore"), force=force)
    except BackupError as exc:
        fail(str(exc))
    if not ctx.as_json:
        click.echo(f"restored {result.path} into the {result.backend} database; verifying it", err=True)
    # verify prints its own summary (or JSON) and exits 1 when the restored history has problems.
    click_ctx.invoke(verify, chain_only=False, case_refs=(), against_file=None, public_key_file=None, workers=1)

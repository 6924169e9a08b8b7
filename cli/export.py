"""``citycase export xes|csv|ocel``: the event log of a period's cases, for process mining."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from cli.base import CliContext, cli, emit, fail, json_option
from engine.errors import CityCaseError

# engine.audit.export is imported inside the command: it pulls in the audit package (replay,
# SpiffWorkflow), a second of start-up that every other citycase command would pay.
HELP = """Export the event log of the cases reported in a period as xes (IEEE 1849 XES),
csv (one row per event, UTF-8 with BOM for Excel) or ocel (OCEL 2.0 JSON).

{rule}

Example: citycase export xes --from 2026-03-01 --to 2026-03-31 --district 330191 --output march.xes
"""


class _ExportCommand(click.Command):
    """Its help states the period rule, read from the engine only when help is shown."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from engine.audit.export import PERIOD_RULE

        self.help = HELP.format(rule=PERIOD_RULE)
        super().format_help_text(ctx, formatter)


class _Progress:
    """Progress on stderr, at most once per percent (a million cases make two thousand chunks)."""

    def __init__(self) -> None:
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        if percent != self.shown:
            self.shown = percent
            click.echo(f"exported {done}/{total} cases ({percent}%)", err=True)


def _open_temp(output: Path):
    """A temporary file next to the output: the output appears only once the export is complete."""
    if output.is_dir():
        raise OSError(f"{output} is a folder; give a file name")
    tmp = tempfile.NamedTemporaryFile("wb", dir=output.parent, prefix=f".{output.name}.", suffix=".part",
                                      delete=False)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp.name, 0o666 & ~umask)  # temporary files are private; the export gets the usual mode
    return tmp


@cli.command("export", cls=_ExportCommand, short_help="Export event logs as XES, CSV or OCEL 2.0.")
@click.argument("fmt", metavar="xes|csv|ocel")
@click.option("--from", "date_from", required=True, metavar="DATE", help="first report date (YYYY-MM-DD, inclusive)")
@click.option("--to", "date_to", required=True, metavar="DATE", help="last report date (YYYY-MM-DD, inclusive)")
@click.option("--district", metavar="CODE", help="only cases in this district (region code)")
@click.option("--class", "class_code", metavar="CODE", help="only cases of this problem class (e.g. E0102)")
@click.option("--department", metavar="CODE", help="only cases last dispatched to this department")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (replaced only when the export succeeds)")
@json_option
@click.pass_obj
def export(ctx: CliContext, fmt: str, date_from: str, date_to: str, district: str | None, class_code: str | None,
           department: str | None, output: Path) -> None:
    from engine.audit.export import ExportFilters, ExportFormat, parse_date, write_export

    try:
        fmt = ExportFormat(fmt.lower())
    except ValueError:
        fail(f"unknown format {fmt!r}; use one of {', '.join(ExportFormat)}")
    try:
        filters = ExportFilters(parse_date(date_from, "--from"), parse_date(date_to, "--to"),
                                ctx.config["TIMEZONE"], district or None, class_code or None, department or None)
    except CityCaseError as exc:
        fail(str(exc))
    try:
        tmp = _open_temp(output)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    try:
        with tmp, ctx.session_factory() as session:
            if session.get_bind().dialect.name == "postgresql":
                # One snapshot for the whole export, so that counts and contents agree.
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            summary = write_export(session, fmt, filters, tmp, progress=_Progress())
            session.rollback()  # an export only reads
        os.replace(tmp.name, output)
    except CityCaseError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    finally:
        Path(tmp.name).unlink(missing_ok=True)
    out = {**summary.as_dict(), "output": str(output), "filters": filters.as_dict()}
    extra = f", {summary.objects} objects" if summary.objects else ""
    emit(ctx, out, f"wrote {output}: {summary.cases} cases, {summary.events} events{extra}")

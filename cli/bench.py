"""``citycase bench``: run the benchmark sections and write bench/results.json and results.txt.

The sections live in bench/ (the CLI imports bench, never the other way round). Sections run one after the other in this process tree; each writes its entries
into one ``Results``; a section whose subject has not landed yet is skipped with a note.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

import click

from cli.base import CliContext, cli, json_option

SECTIONS = ("engine", "inbox", "timers", "audit", "export", "http", "intake", "writes")
MEMORY_TARGET = "<= 300"


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


@cli.command("bench")
@click.option("--quick", is_flag=True, help="small sizes (about two minutes); numbers are indicative only")
@click.option("--postgres", "postgres_url", metavar="URL",
              help="PostgreSQL server for scratch databases (env CITYCASE_BENCH_POSTGRES_URL, default "
                   "postgresql://postgres@127.0.0.1:5432/test); 'none' skips PostgreSQL")
@click.option("--output", "output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where results.json, results.txt and profile_engine.txt go (default: bench/)")
@click.option("--only", "only", default=",".join(SECTIONS), show_default=True,
              help="comma-separated sections to run")
@click.option("--engine-cases", type=click.IntRange(2, None), default=None, help="cases per engine run")
@click.option("--inbox-cases", type=click.IntRange(10, None), default=None,
              help="one inbox table of this many cases (instead of 100,000 and 1,000,000)")
@click.option("--inbox-repeat", type=click.IntRange(1, None), default=None, help="runs per inbox query")
@click.option("--no-profile", is_flag=True, help="skip the cProfile run of the engine")
@json_option
@click.pass_obj
def bench(ctx: CliContext, quick: bool, postgres_url: str | None, output: Path | None, only: str,
          engine_cases: int | None, inbox_cases: int | None, inbox_repeat: int | None, no_profile: bool) -> None:
    """Measure citycase against SpiffWorkflow in memory and the targets of the design.

    Uses only its own scratch databases (SQLite files in a temporary folder, PostgreSQL databases
    named citycase_bench_*, dropped at the end) and a server on 127.0.0.1.
    """
    from bench.common import DEFAULT_PG_URL, PROJECT_ROOT, Scratch, log
    from bench.report import Results, machine_info

    wanted = [s.strip() for s in only.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        raise click.BadParameter(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}",
                                 param_hint="--only")
    out_dir = (output or PROJECT_ROOT / "bench").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    asked = postgres_url or os.environ.get("CITYCASE_BENCH_POSTGRES_URL") or DEFAULT_PG_URL
    pg, pg_ver = _postgres(asked)
    results = Results(machine=machine_info(pg_ver))
    results.machine["load_average_at_start"] = _load_average()
    results.machine["mode"] = "quick" if quick else "full"
    results.notes.extend(_setup_notes(asked, pg, quick,
                                      results.machine["load_average_at_start"]))

    scratch = Scratch(pg)
    failed: list[str] = []
    kept: dict[str, str] = {}
    try:
        for name in wanted:
            results.section = name
            log(f"section {name}")
            try:
                _run_section(name, results, scratch, quick, out_dir, kept, engine_cases, inbox_cases,
                             inbox_repeat, no_profile, "audit" in wanted)
            except Exception as exc:  # noqa: BLE001 — one broken section must not lose the others
                failed.append(name)
                detail = traceback.format_exc()
                log(f"section {name} failed:\n{detail}")
                results.note(f"FAILED: {exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        results.section = "memory"
        for label, mb in results.memory.items():
            results.add(f"peak RSS: {label}", mb, "MB", MEMORY_TARGET)
        if not results.memory:
            results.note("no server or scheduler process ran (their sections were skipped)")
    finally:
        results.section = ""
        for url in kept.values():
            scratch.drop(url)
        scratch.cleanup()
        results.machine["load_average_at_end"] = _load_average()
        json_path, txt_path = results.write(out_dir)
    if ctx.as_json:
        click.echo(json.dumps(results.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(results.table(), nl=False)
    log(f"wrote {json_path} and {txt_path}")
    if failed:
        sys.exit(1)


def _postgres(url: str) -> tuple[str | None, str | None]:
    """(server URL, its version), or None for the URL when PostgreSQL is off or unreachable."""
    from bench.common import pg_version

    if url.lower() in ("none", "off", ""):
        return None, None
    version = pg_version(url)
    return (url if version else None), version


def _setup_notes(asked: str, pg: str | None, quick: bool, load: list[float] | None) -> list[str]:
    notes = []
    if pg is None and asked.lower() not in ("none", "off", ""):
        from sqlalchemy.engine import make_url

        shown = make_url(asked).render_as_string(hide_password=True)
        notes.append(f"PostgreSQL at {shown} is not reachable: PostgreSQL runs skipped")
    elif pg is None:
        notes.append("PostgreSQL runs skipped (--postgres none)")
    if quick:
        notes.append("quick mode: small sizes; the numbers are indicative, the targets are for full runs")
    if load and load[0] > 0.5:
        notes.append(f"the machine was not idle at the start (load average {load[0]}): other processes "
                     "share the 2 cores, so the numbers are lower than on a quiet machine")
    return notes


def _run_section(name: str, results, scratch, quick: bool, out_dir: Path, kept: dict[str, str],
                 engine_cases: int | None, inbox_cases: int | None, inbox_repeat: int | None,
                 no_profile: bool, audit_follows: bool) -> None:
    if name == "writes":
        from bench import concurrent_writes

        concurrent_writes.bench_run(results, scratch, quick)
    elif name == "engine":
        from bench import engine_bench

        engine_bench.run(results, scratch, quick, out_dir, cases=engine_cases, profile=not no_profile,
                         keep=kept if audit_follows else None)
    elif name == "inbox":
        from bench import inbox_bench

        inbox_bench.run(results, scratch, quick, sizes=[inbox_cases] if inbox_cases else None, repeat=inbox_repeat)
    elif name == "timers":
        from bench import timer_bench

        timer_bench.run(results, scratch, quick)
    elif name == "audit":
        from bench import audit_bench

        prepared = dict(kept)
        kept.clear()
        audit_bench.run(results, scratch, quick, prepared=prepared)
    elif name == "export":
        from bench import export_bench

        export_bench.run(results, scratch, quick)
    elif name == "http":
        from bench import http_bench

        http_bench.run(results, scratch, quick, out_dir)
    elif name == "intake":
        from bench import intake_bench

        intake_bench.run(results, scratch, quick, out_dir)

"""Event-log exports: cases per second and peak memory per format (``citycase bench --only export``).

The cases are made as the engine section makes them (real commands, real history, persisted);
each format is then written to /dev/null by a fresh spawned process over every case, so its
peak resident set is the export's own. The exports stream (one
chunk of cases at a time), so the peak should not grow with the number of cases: compare it
between quick and full runs, or between the SQLite and PostgreSQL rows.
"""

from __future__ import annotations

import os
import time

from bench.common import Scratch, log, peak_rss_mb, report_failure, spawn_all
from bench.report import Results

FORMATS = ("xes", "csv", "ocel")


def _worker(ready, go, results, url: str, fmt: str) -> None:
    try:
        from datetime import date

        from engine.audit.export import ExportFilters, write_export
        from engine.db import make_engine, session_factory

        engine = make_engine(url)
        factory = session_factory(engine)
        everything = ExportFilters(date(1970, 1, 2), date(2999, 12, 31))
        ready.put(os.getpid())
        go.wait()
        t0 = time.monotonic()
        with factory() as s, open(os.devnull, "wb") as out:
            summary = write_export(s, fmt, everything, out)
        t1 = time.monotonic()
        engine.dispose()
        results.put({"ok": True, "seconds": t1 - t0, "cases": summary.cases, "events": summary.events,
                     "peak_mb": peak_rss_mb()})
    except BaseException:  # noqa: BLE001
        report_failure(results, ready)


def measure(results: Results, url: str, name: str) -> None:
    """Add one rate and one peak-memory entry per format for the database at ``url``."""
    try:
        import engine.audit.export  # noqa: F401
    except ModuleNotFoundError:
        results.note("export: skipped, engine.audit.export has not landed")
        return
    for fmt in FORMATS:
        out = spawn_all(_worker, [(url, fmt)])[0]
        rate = out["cases"] / out["seconds"] if out["seconds"] > 0 else float("nan")
        results.add(f"{name}: export {fmt}, {out['cases']} cases / {out['events']} events", rate, "cases/s")
        if out["peak_mb"] is not None:
            results.add(f"{name}: export {fmt}, peak RSS", out["peak_mb"], "MB")


def run(results: Results, scratch: Scratch, quick: bool, cases: int | None = None) -> None:
    from bench import engine_bench

    n = cases or (100 if quick else 2000)
    for backend in scratch.backends():
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        url = scratch.city(backend)
        try:
            log(f"export: making {n} cases with history on {name}")
            engine_bench.run_processes("persisted", url, n, 2)
            measure(results, url, name)
        finally:
            scratch.drop(url)

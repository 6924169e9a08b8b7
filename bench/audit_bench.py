"""Section 4 — audit: ``citycase verify`` on real histories, cases per second, 1 and 2 processes.

The cases are real ones with real history: the databases of the engine section's single-process
runs (closed cases), or — when that section did not run — cases made the same way here. Timed
with ``engine.audit.run`` (what ``citycase verify`` runs: id ranges in worker processes, plus the
history-wide checks — case numbers, checkpoints):

* chain-only (``Options(full=False)``): each case's hash chain and its case row against its
  events, 1 process and 2 worker processes; target >= 20,000 cases/s with both cores;
* full (``Options(full=True)``): the same plus a replay of every case compared with its stored
  state, 1 and 2 processes; "100,000 cases" is extrapolated from the 2-process rate (target 240 s);
* the first checkpoint over the whole log (every event hashed into the Merkle tree and signed),
  events per second.

The machine's load average is in the notes: on a shared machine, wall-clock rates fall with it.
"""

from __future__ import annotations

import os
import resource
import time

from bench.common import Scratch, log, missing_module
from bench.report import Results

CHAIN_TARGET = ">= 20000"
REPLAY_CASES = 100_000
REPLAY_TARGET_SECONDS = 240


def _id_range(url: str) -> tuple[int, int, int, int]:
    """Lowest and highest case id, number of cases, number of history events."""
    from sqlalchemy import func, select

    from engine.db import make_engine, session_factory
    from engine.models import Case, Event

    engine = make_engine(url)
    with session_factory(engine)() as s:
        lo, hi, n = s.execute(select(func.min(Case.id), func.max(Case.id), func.count(Case.id))).one()
        events = s.scalar(select(func.count(Event.id))) or 0
    engine.dispose()
    return lo or 0, hi or 0, n or 0, events


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the verify workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(results: Results, url: str, full: bool, workers: int) -> tuple[float, float]:
    """(cases per wall second, cases per CPU second) of one verify run. The CPU figure does not
    depend on what else the machine runs: cores × it is the rate on otherwise idle cores."""
    from engine.audit import Options, run
    from engine.db import make_engine, session_factory

    engine = make_engine(url)
    factory = session_factory(engine)
    c0, t0 = _cpu_seconds(), time.monotonic()
    report = run(factory, Options(full=full, workers=workers))
    seconds, cpu = time.monotonic() - t0, _cpu_seconds() - c0
    engine.dispose()
    if report.problems:
        results.note(f"verify found {len(report.problems)} problem(s), e.g. {report.problems[0]}")
    return (report.checked / seconds if seconds > 0 else float("nan"),
            report.checked / cpu if cpu > 0 else float("nan"))


def _checkpoint_rate(url: str, events: int) -> float:
    from engine.audit import checkpoints
    from engine.audit.signing import generate
    from engine.clock import SystemClock
    from engine.db import make_engine, session_factory, transaction

    engine = make_engine(url)
    t0 = time.monotonic()
    with transaction(session_factory(engine)) as s:
        checkpoints.create(s, generate("ed25519"), "sha256", SystemClock().now())
    seconds = time.monotonic() - t0
    engine.dispose()
    return events / seconds if seconds > 0 else float("nan")


def _measure(results: Results, name: str, url: str, events: int) -> None:
    cores = os.cpu_count() or 1
    chain1, _ = _timed(results, url, False, 1)
    results.add(f"{name}: verify --chain-only, 1 process", chain1, "cases/s")
    chain2, chain_cpu = _timed(results, url, False, 2)
    results.add(f"{name}: verify --chain-only, 2 processes", chain2, "cases/s", CHAIN_TARGET)
    results.add(f"{name}: verify --chain-only, CPU cost x {cores} cores (rate on idle cores)", chain_cpu * cores,
                "cases/s", CHAIN_TARGET)
    replay1, _ = _timed(results, url, True, 1)
    results.add(f"{name}: verify (full replay), 1 process", replay1, "cases/s")
    replay2, replay_cpu = _timed(results, url, True, 2)
    results.add(f"{name}: verify (full replay), 2 processes", replay2, "cases/s")
    results.add(f"{name}: full replay of {REPLAY_CASES:,} cases, 2 processes (extrapolated)",
                REPLAY_CASES / replay2, "s", f"<= {REPLAY_TARGET_SECONDS}")
    idle_seconds = REPLAY_CASES / (replay_cpu * cores)
    results.add(f"{name}: full replay of {REPLAY_CASES:,} cases on {cores} idle cores (from CPU cost)",
                idle_seconds, "s", f"<= {REPLAY_TARGET_SECONDS}")
    if idle_seconds > REPLAY_TARGET_SECONDS:
        results.note(f"{name}: full replay measured at {replay_cpu * cores:,.0f} cases/s on {cores} idle cores "
                     f"(≈ {idle_seconds:,.0f} s for {REPLAY_CASES:,} cases): the {REPLAY_TARGET_SECONDS} s target is "
                     f"out of reach on {cores} cores. Replay re-runs every recorded step through SpiffWorkflow, and "
                     f"that step's cost (the performance issue, #14) is nearly all of it; the audit's own work (chain, "
                     f"row comparison) is the chain-only rate above")
    results.add(f"{name}: first checkpoint over the whole log (hash + sign)", _checkpoint_rate(url, events),
                "events/s")
    log(f"audit: {name}: chain-only {chain1:.0f}/s (1), {chain2:.0f}/s (2), {chain_cpu * cores:.0f}/s on idle "
        f"cores; replay {replay1:.0f}/s (1), {replay2:.0f}/s (2)")


def run(results: Results, scratch: Scratch, quick: bool, prepared: dict[str, str] | None = None,
        cases: int | None = None) -> None:
    try:
        from engine import audit
    except ModuleNotFoundError as exc:
        if not missing_module(exc, "engine.audit"):
            raise
        results.note("skipped: engine.audit has not landed yet")
        return
    if not hasattr(audit, "run"):
        results.note("skipped: engine.audit lacks run() (the API this section times)")
        return
    results.note(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
                 f"on {os.cpu_count()} cores")
    from bench import engine_bench

    prepared = dict(prepared or {})
    for backend in scratch.backends():
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        url = prepared.pop(backend, None)
        if url is None:
            n = cases or (100 if quick else 1000)
            url = scratch.city(backend)
            log(f"audit: making {n} cases with history on {name}")
            engine_bench.run_processes("persisted", url, n, 2)
        _, _, n, events = _id_range(url)
        log(f"audit: {name}, {n} cases")
        results.note(f"{name}: {n} cases with {events} history events ({events / max(n, 1):.1f} per case)")
        try:
            _measure(results, name, url, events)
        finally:
            scratch.drop(url)
    results.note("'CPU cost x cores' counts the CPU time of verify's own processes: on PostgreSQL the server's "
                 "share (parsing, sending rows) is not in it, so that figure is an upper bound there")
    results.note(f"full replay of {REPLAY_CASES:,} cases is extrapolated from the measured 2-process rate on the "
                 f"cases above (closed cases of the engine section's mix), not run at that size")
    for url in prepared.values():
        scratch.drop(url)

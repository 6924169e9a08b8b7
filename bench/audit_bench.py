"""Section 4 — audit: hash-chain checks and full replays, cases per second, 1 and 2 processes.

The cases are real ones with real history: the databases of the engine section's single-process
runs (closed cases), or — when that section did not run — cases made the
same way here. Measured with ``engine.audit``:

* ``check_chains(session)``: the fast audit, streaming every event once (1 process; it does
  not split work, so there is no 2-process figure for it);
* ``verify_case(session, row, replay=False)`` per case: the chain check a per-case audit does,
  1 process and 2 processes each taking half of the id range;
* ``verify_case(session, row, replay=True)``: chain plus full replay compared with the stored
  state, 1 and 2 processes. "100,000 cases" is extrapolated from the measured 2-process rate.
"""

from __future__ import annotations

import os
import time
from typing import Any

from bench.common import Scratch, log, missing_module, report_failure, spawn_all
from bench.report import Results

CHAIN_TARGET = ">= 20000"
REPLAY_CASES = 100_000
REPLAY_TARGET_SECONDS = 240


def _case_rows(session, lo: int, hi: int, batch: int = 500):
    from sqlalchemy import select

    from engine.models import Case

    cols = (Case.id, Case.number, Case.definition_id, Case.state, Case.last_hash, Case.last_seq)
    last = lo - 1
    while True:
        rows = session.execute(select(*cols).where(Case.id > last, Case.id <= hi).order_by(Case.id)
                               .limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def _worker(ready, go, results, url: str, mode: str, lo: int, hi: int) -> None:
    try:
        from engine import audit
        from engine.db import make_engine, session_factory

        engine = make_engine(url)
        factory = session_factory(engine)
        with factory() as s:  # warm the definition cache (a running auditor has it)
            first = next(_case_rows(s, lo, hi, 1), None)
            if first is not None:
                audit.verify_case(s, first, replay=True)
        ready.put(os.getpid())
        go.wait()
        t0 = time.monotonic()
        problems: list[Any] = []
        with factory() as s:
            if mode == "chains":
                count, problems = audit.check_chains(s)
            else:
                count = 0
                for row in _case_rows(s, lo, hi):
                    problems += audit.verify_case(s, row, replay=(mode == "replay"))
                    count += 1
        t1 = time.monotonic()
        engine.dispose()
        results.put({"ok": True, "t0": t0, "t1": t1, "count": count,
                     "problems": [str(getattr(p, "reason", p)) for p in problems[:5]], "problem_count": len(problems)})
    except BaseException:  # noqa: BLE001
        report_failure(results, ready)


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


def _timed(results: Results, url: str, mode: str, procs: int, lo: int, hi: int) -> tuple[float, int]:
    step = (hi - lo + 1 + procs - 1) // procs
    parts = [(url, mode, lo + i * step, min(hi, lo + (i + 1) * step - 1)) for i in range(procs)]
    outs = spawn_all(_worker, parts)
    seconds = max(o["t1"] for o in outs) - min(o["t0"] for o in outs)
    count = sum(o["count"] for o in outs) if mode != "chains" else outs[0]["count"]
    problems = sum(o["problem_count"] for o in outs)
    if problems:
        sample = next(p for o in outs for p in o["problems"])
        results.note(f"{mode} found {problems} problem(s) in {count} cases, e.g. {sample!r}")
    return count / seconds if seconds > 0 else float("nan"), count


def run(results: Results, scratch: Scratch, quick: bool, prepared: dict[str, str] | None = None,
        cases: int | None = None) -> None:
    try:
        from engine import audit
    except ModuleNotFoundError as exc:
        if not missing_module(exc, "engine.audit"):
            raise
        results.note("skipped: engine.audit has not landed yet")
        return
    if not all(hasattr(audit, f) for f in ("check_chains", "verify_case")):
        results.note("skipped: engine.audit lacks check_chains()/verify_case() (the API this section times)")
        return
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
        lo, hi, n, events = _id_range(url)
        log(f"audit: {name}, {n} cases")
        results.note(f"{name}: {n} cases with {events} history events ({events / max(n, 1):.1f} per case)")
        try:
            rate, _ = _timed(results, url, "chains", 1, lo, hi)
            results.add(f"{name}: hash chains, check_chains, 1 process", rate, "cases/s", CHAIN_TARGET)
            rate1, _ = _timed(results, url, "chain", 1, lo, hi)
            results.add(f"{name}: hash chain per case (verify_case), 1 process", rate1, "cases/s")
            rate2, _ = _timed(results, url, "chain", 2, lo, hi)
            results.add(f"{name}: hash chain per case (verify_case), 2 processes", rate2, "cases/s", CHAIN_TARGET)
            replay1, _ = _timed(results, url, "replay", 1, lo, hi)
            results.add(f"{name}: full replay, 1 process", replay1, "cases/s")
            replay2, _ = _timed(results, url, "replay", 2, lo, hi)
            results.add(f"{name}: full replay, 2 processes", replay2, "cases/s")
            results.add(f"{name}: full replay of {REPLAY_CASES:,} cases, 2 processes (extrapolated)",
                        REPLAY_CASES / replay2, "s", f"<= {REPLAY_TARGET_SECONDS}")
            log(f"audit: {name}: chains {rate:.0f}/s, replay {replay1:.0f}/s (1), {replay2:.0f}/s (2)")
        finally:
            scratch.drop(url)
    results.note(f"full replay of {REPLAY_CASES:,} cases is extrapolated from the measured 2-process rate on the "
                 f"cases above (closed cases of the engine section's mix), not run at that size")
    for url in prepared.values():
        scratch.drop(url)

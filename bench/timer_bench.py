"""Section 3 — timers: due timers fired per second by the scheduler, and due-to-fired delay.

Set-up (untimed): ``CASES`` real cases run through the engine up to handling, so each has the
handle step's warning (80 %) and overdue (100 %) timers as ``deadline`` rows. Copies of that
database are then used for:

* drain, 1 and 2 scheduler processes: the clock is set past every deadline and each process
  calls ``engine.scheduler.tick`` until nothing is due; fired/s = deadline rows fired ÷ wall time
  from the common start to the last process's end. A case's due timers fire in one command
  (warning and overdue together when both are due), so cases/s is reported as well.
* paced, 1 scheduler process: timers become due at a steady ``RATE``/s of real time (a clock that
  walks through the sorted due instants at that pace), the scheduler ticks every ``TICK`` s, and
  each timer's delay is the time from becoming due to its case's commit. The default tick is
  SCHEDULER_TICK_SECONDS (5 s); the bench uses 1 s so that a short run spans several ticks.
"""

from __future__ import annotations

import bisect
import os
import time
from datetime import datetime, timedelta
from typing import Any

from bench.common import Scratch, log, missing_module, peak_rss_mb, percentile, report_failure, spawn_all
from bench.report import Results

RATE = 500.0  # timers becoming due per second in the paced run (the target rate)
TICK = 1.0


class PacedClock:
    """Walks through sorted due instants so that they come due at ``rate`` per real second."""

    def __init__(self, dues: list[datetime], rate: float) -> None:
        self.dues = dues
        self.rate = rate
        self.t0: float | None = None

    def start(self) -> None:
        self.t0 = time.monotonic()

    def real_due(self, due: datetime) -> float:
        """Seconds after start when ``due`` comes due (first instant the clock reaches it)."""
        return bisect.bisect_left(self.dues, due) / self.rate

    def now(self) -> datetime:
        first, last = self.dues[0], self.dues[-1]
        if self.t0 is None:
            return first - timedelta(seconds=1)
        x = (time.monotonic() - self.t0) * self.rate
        if x <= 0:
            return first
        i = int(x)
        if i >= len(self.dues) - 1:
            return last + timedelta(seconds=(x - (len(self.dues) - 1)) / self.rate + 1e-6)
        a, b = self.dues[i], self.dues[i + 1]
        return a + (b - a) * (x - i)


def _due_rows(session, at: datetime | None = None) -> list[Any]:
    from sqlalchemy import select

    from engine.models import Deadline

    stmt = select(Deadline.case_id, Deadline.task_id, Deadline.due_at)
    if at is not None:
        stmt = stmt.where(Deadline.due_at <= at)
    return list(session.execute(stmt.order_by(Deadline.due_at)))


def _worker(ready, go, results, url: str, mode: str) -> None:
    # Longer than 60 lines on purpose: one measuring process, set-up and timed loop kept together.
    try:
        from engine import scheduler
        from engine.clock import ManualClock
        from engine.db import make_engine, session_factory
        from engine.model import EngineContext

        engine = make_engine(url)
        factory = session_factory(engine)
        with factory() as s:
            rows = _due_rows(s)
        dues = [r.due_at for r in rows]
        fired_at: dict[tuple[int, int], float] = {}
        original = scheduler.fire_case

        def recording_fire_case(factory_, ctx_, case_id):
            result = original(factory_, ctx_, case_id)
            if result is not None:
                fired_at[(case_id, result.get("seq", 0))] = time.monotonic()
            return result

        scheduler.fire_case = recording_fire_case
        if mode == "drain":
            clock: Any = ManualClock(dues[-1] + timedelta(days=1))
        else:
            clock = PacedClock(dues, RATE)
        ctx = EngineContext(clock)
        ready.put(os.getpid())
        go.wait()
        ticks = 0
        t0 = time.monotonic()
        if mode == "drain":
            while True:
                counts = scheduler.tick(factory, ctx)
                ticks += 1
                if not counts.get("fired") and not counts.get("skipped"):
                    with factory() as s:
                        if not _due_rows(s, clock.now()):
                            break
        else:
            clock.start()
            t0 = clock.t0
            next_tick = t0
            deadline = t0 + len(dues) / RATE + 120
            while time.monotonic() < deadline:
                pause = next_tick - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                counts = scheduler.tick(factory, ctx)
                ticks += 1
                next_tick += TICK
                if time.monotonic() > next_tick:  # an overrunning tick: the next starts at once
                    next_tick = time.monotonic()
                if clock.now() > dues[-1] and not counts.get("fired") and not counts.get("skipped"):
                    with factory() as s:
                        if not _due_rows(s, clock.now()):
                            break
        t1 = time.monotonic()
        delays: list[float] = []
        if mode == "paced":
            delays = _delays(factory, clock, rows, fired_at)
        engine.dispose()
        results.put({"ok": True, "t0": t0, "t1": t1, "ticks": ticks, "cases": len(fired_at),
                     "delays": delays, "rss_mb": peak_rss_mb()})
    except BaseException:  # noqa: BLE001
        report_failure(results, ready)


def _delays(factory, clock: PacedClock, rows: list[Any], fired_at: dict[tuple[int, int], float]) -> list[float]:
    """Seconds from each timer coming due to the commit of the command that fired it."""
    import orjson
    from sqlalchemy import select

    from engine.models import Event

    due_by_task = {r.task_id: r.due_at for r in rows}
    out = []
    with factory() as s:
        events = s.execute(select(Event.case_id, Event.seq, Event.data).where(Event.kind == "timer")).all()
    for ev in events:
        at = fired_at.get((ev.case_id, ev.seq))
        if at is None:
            continue
        for task_id in orjson.loads(ev.data).get("fired", []):
            due = due_by_task.get(task_id)
            if due is not None:
                out.append(at - (clock.t0 + clock.real_due(due)))
    return out


def _count_due(url: str, at: datetime | None = None) -> tuple[int, datetime | None]:
    from engine.db import make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine)() as s:
        rows = _due_rows(s, at)
    engine.dispose()
    return len(rows), (rows[-1].due_at if rows else None)


def run(results: Results, scratch: Scratch, quick: bool, cases: int | None = None) -> None:
    # Longer than 60 lines on purpose: one bench section, its measurements in the order they are reported.
    try:
        from engine import scheduler
    except ModuleNotFoundError as exc:
        if not missing_module(exc, "engine.scheduler"):
            raise
        results.note("skipped: engine.scheduler has not landed yet")
        return
    if not hasattr(scheduler, "tick") or not hasattr(scheduler, "fire_case"):
        results.note("skipped: engine.scheduler has no tick()/fire_case() (the API this section times)")
        return
    from bench import engine_bench

    n = cases or (60 if quick else 1000)
    results.note(f"{n} real cases run through the engine up to handling (set-up, untimed), each with a warning and "
                 f"an overdue timer; paced run: timers come due at {RATE:.0f}/s, scheduler tick {TICK:.0f} s "
                 f"(the default SCHEDULER_TICK_SECONDS is 5 s)")
    for backend in scratch.backends():
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        base = scratch.city(backend)
        log(f"timers: set-up of {n} cases up to handling on {name}")
        engine_bench.run_processes("to_handle", base, n, 2)
        total, last_due = _count_due(base)
        if not total:
            results.note(f"{name}: the set-up left no timers; nothing to measure")
            scratch.drop(base)
            continue
        rss = []
        for procs in (1, 2):
            url = scratch.copy(base)
            log(f"timers: {name}, draining {total} due timers with {procs} scheduler process(es)")
            outs = spawn_all(_worker, [(url, "drain")] * procs)
            left, _ = _count_due(url, last_due + timedelta(days=1))
            seconds = max(o["t1"] for o in outs) - min(o["t0"] for o in outs)
            fired = total - left
            results.add(f"{name}: fired, {procs} scheduler process{'es' if procs > 1 else ''}", fired / seconds,
                        "timers/s", ">= 500")
            results.add(f"{name}: cases fired, {procs} scheduler process{'es' if procs > 1 else ''}",
                        sum(o["cases"] for o in outs) / seconds, "cases/s")
            if left:
                results.note(f"{name}, {procs} process(es): {left} timers were still due at the end")
            rss += [o["rss_mb"] or 0 for o in outs]
            log(f"timers: {name} {procs} process(es): {fired / seconds:.0f} timers/s")
            scratch.drop(url)
        url = scratch.copy(base)
        log(f"timers: {name}, paced run ({total} timers at {RATE:.0f}/s, tick {TICK} s)")
        (out,) = spawn_all(_worker, [(url, "paced")])
        delays = out["delays"]
        if delays:
            results.add(f"{name}: due-to-fired delay p50 (paced {RATE:.0f}/s)", percentile(delays, 50), "s")
            results.add(f"{name}: due-to-fired delay p95 (paced {RATE:.0f}/s)", percentile(delays, 95), "s")
            results.add(f"{name}: due-to-fired delay max (paced {RATE:.0f}/s)", max(delays), "s",
                        f"<= {TICK + 1:g}")
            if len(delays) < total:
                results.note(f"{name} paced run: {len(delays)} of {total} timers fired")
        else:
            results.note(f"{name} paced run: no timer fired")
        rss.append(out["rss_mb"] or 0)
        results.memory[f"scheduler process, {name} timer runs"] = max(rss)
        scratch.drop(url)
        scratch.drop(base)

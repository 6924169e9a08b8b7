"""Section 1 — the engine: task completions per second in memory and fully persisted.

(a) SpiffWorkflow alone: the deployed bpmn/ parsed once, one ``BpmnWorkflow`` per case kept in
    memory, user tasks completed with the same (form-cleaned) data, the same engine steps as a
    command (do_engine_steps, refresh_waiting_tasks, do_engine_steps) with the engine's clock,
    id sequence and service handlers installed. No database, no serialization.
(b) ``engine.commands``: ``start_case`` and ``complete_task`` through a session, one committed
    transaction per command: state, task rows, history event, deadlines, outbox.

Both run the same cases in the same order: ``MIX`` in ``bench.common`` (≈ 7.5 completions per
case: the happy path plus supervisor reports, reworks, returns and extensions), ``IN_FLIGHT``
cases interleaved round-robin, a ManualClock moved 2 s per command. Throughput is user-task
completions divided by the time of the whole run, case starts included (so it is a slightly
conservative number); for (b) the task-id lookup before each command (a read in its own session,
what the inbox page gives a user) is timed apart and left out (its share is in the notes). Each process first runs ``WARMUP`` cases untimed (spec and
calendar caches, like a running server). 2-process runs use multiprocessing (spawn); each
process works its own cases; the time is from the common start signal to the last finish.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import time
from collections import deque
from pathlib import Path
from typing import Any

from bench.common import (
    CITIZEN_USERNAME,
    START,
    CasePlan,
    Scratch,
    actor_for,
    city_facts,
    clock_step,
    completions_of,
    is_lock_error,
    log,
    make_plans,
    peak_rss_mb,
    report_failure,
    spawn_all,
    write_transaction,
)
from bench.report import Results

IN_FLIGHT = 100
WARMUP = 20
TARGETS = {"sqlite": ">= 1000", "postgres": ">= 800"}
RATIO_TARGETS = {"sqlite": ">= 0.4", "postgres": ">= 0.333"}  # within 2.5x / 3x of in-memory


def _reporter(plan: CasePlan):
    from engine.model import Actor

    if plan.report["source"] == "supervisor":
        return Actor("supervisor1", "supervisor", None, plan.district_code)
    return Actor(CITIZEN_USERNAME, "citizen")


# --- (b) persisted ---------------------------------------------------------------------------------

def run_persisted(factory, ctx, plans: list[CasePlan], in_flight: int = IN_FLIGHT) -> dict[str, int]:
    """Walk ``plans`` through the engine, one committed transaction per command."""
    from sqlalchemy import select

    from engine.commands import complete_task, start_case
    from engine.errors import Conflict
    from engine.models import TaskRow

    step = clock_step()
    pending = deque(plans)
    active: deque[list[Any]] = deque()
    stats: dict[str, Any] = {"starts": 0, "completions": 0, "conflicts": 0, "lookup_seconds": 0.0}
    columns = (TaskRow.id, TaskRow.spec_id, TaskRow.role, TaskRow.department_code, TaskRow.district_code)
    while pending or active:
        while pending and len(active) < in_flight:
            plan = pending.popleft()
            ctx.clock.advance(step)
            try:
                with write_transaction(factory) as s:
                    result = start_case(s, ctx, plan.report, _reporter(plan))
            except Exception as exc:
                if not (isinstance(exc, Conflict) or is_lock_error(exc)):
                    raise
                stats["conflicts"] += 1
                pending.appendleft(plan)
                continue
            stats["starts"] += 1
            if plan.steps:
                active.append([plan, result.case_id, 0])
        if not active:
            break
        item = active.popleft()
        plan, case_id, index = item
        spec_id, data = plan.steps[index]
        ctx.clock.advance(step)
        # Which task to complete: what the inbox page gives a user. Read before the command, in its
        # own session, and timed separately (it is not part of the command).
        t_lookup = time.perf_counter()
        with factory() as s:
            rows = s.execute(select(*columns).where(TaskRow.case_id == case_id)).all()
        stats["lookup_seconds"] += time.perf_counter() - t_lookup
        row = next((r for r in rows if r.spec_id == spec_id), None)
        if row is None:
            raise RuntimeError(f"case {case_id} ({plan.kind}): no open {spec_id} task; open: "
                               f"{[r.spec_id for r in rows]}")
        try:
            with write_transaction(factory) as s:
                complete_task(s, ctx, row.id, actor_for(row.role, row.department_code, row.district_code), data)
        except Exception as exc:
            if not (isinstance(exc, Conflict) or is_lock_error(exc)):
                raise
            stats["conflicts"] += 1
            active.append(item)
            continue
        stats["completions"] += 1
        item[2] += 1
        if item[2] < len(plan.steps):
            active.append(item)
    return stats


# --- (a) in memory ----------------------------------------------------------------------------------

class MemoryRun:
    """The same workload on bare SpiffWorkflow: nothing but the workflow objects in memory."""

    def __init__(self, session, plans: list[CasePlan]) -> None:
        from engine import definitions
        from engine.calendar import get_calendar
        from engine.clock import ManualClock
        from engine.commands import form_options
        from engine.forms import validate
        from engine.geo import get_locator
        from engine.models import ProblemClass

        loaded = definitions.build(definitions.read_definition_files([definitions_dir()]))
        self.spec, self.subprocess_specs = loaded.spec, loaded.subprocess_specs
        self.calendar = get_calendar(session, "Asia/Shanghai", "08:30-12:00,13:30-17:30")
        self.clock = ManualClock(START)
        locator = get_locator(session)
        urgency = {p.code: p.urgency for p in session.query(ProblemClass)}
        options_by_spec = {spec_id: form_options(session, spec_id) for spec_id in loaded.user_tasks}
        # Prepared outside the timing: the start data and the cleaned form data the engine would store.
        self.cases: list[tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]] = []
        for plan in plans:
            r = plan.report
            loc = locator.locate(r["lon"], r["lat"])
            initial = {"source": r["source"], "class_code": r["class_code"], "urgency": urgency[r["class_code"]],
                       "district_code": loc.district_code, "street_code": loc.street_code,
                       "grid_code": loc.grid_code, "self_handled": False}
            steps = [(spec_id, validate(loaded.user_tasks[spec_id].form, data, options_by_spec[spec_id]))
                     for spec_id, data in plan.steps]
            self.cases.append((initial, steps))

    def run(self, in_flight: int = IN_FLIGHT) -> dict[str, int]:
        from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        from engine import spiff_patches
        from engine.clock import using_clock
        from engine.deadlines import Deadlines
        from engine.ids import IdSequence, using_ids
        from engine.servicelog import ServiceLog, using_service_log
        from engine.services import SCRIPT_ENGINE
        from handlers.context import ServiceContext, using_service_context

        spiff_patches.apply()
        clock, calendar, step = self.clock, self.calendar, clock_step()

        def advance(wf, ids, apply) -> None:
            with using_clock(clock), using_ids(ids), using_service_log(ServiceLog()), \
                    using_service_context(ServiceContext(Deadlines(calendar, clock))):
                apply(wf)
                wf.do_engine_steps()
                wf.refresh_waiting_tasks()
                wf.do_engine_steps()

        pending = deque(enumerate(self.cases))
        active: deque[list[Any]] = deque()
        stats = {"starts": 0, "completions": 0, "conflicts": 0}
        while pending or active:
            while pending and len(active) < in_flight:
                number, (initial, steps) = pending.popleft()
                clock.advance(step)
                ids = IdSequence(f"mem{number:08d}")
                with using_clock(clock), using_ids(ids):
                    wf = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=SCRIPT_ENGINE)

                def start(w, initial=initial):
                    w.get_tasks(state=TaskState.READY)[0].data.update(initial)

                advance(wf, ids, start)
                stats["starts"] += 1
                active.append([wf, ids, steps, 0])
            item = active.popleft()
            wf, ids, steps, index = item
            spec_id, data = steps[index]
            clock.advance(step)

            def complete(w, spec_id=spec_id, data=data):
                for task in w.get_tasks(state=TaskState.READY):
                    if isinstance(task.task_spec, UserTask) and task.task_spec.bpmn_id == spec_id:
                        task.data.update(data)
                        task.run()
                        return
                raise RuntimeError(f"in memory: no ready {spec_id} task")

            advance(wf, ids, complete)
            stats["completions"] += 1
            item[3] += 1
            if item[3] < len(steps):
                active.append(item)
        return stats


def definitions_dir() -> Path:
    from bench.common import BPMN_DIR

    return BPMN_DIR


# --- one process of a run (spawned) -----------------------------------------------------------------

def _worker(ready, go, results, mode: str, url: str, count: int, offset: int, profile_path: str | None) -> None:
    """Set up, warm up, signal ready, wait for go, run ``count`` cases, report."""
    try:
        from engine.clock import ManualClock
        from engine.db import make_engine, session_factory
        from engine.model import EngineContext

        engine = make_engine(url)
        factory = session_factory(engine)
        with factory() as s:
            facts = city_facts(s)
        warm = make_plans(facts, min(WARMUP, max(2, count // 5)), seed=1000 + offset, offset=offset + 10_000_000)
        plans = make_plans(facts, count, seed=offset + 7, offset=offset)
        if mode == "memory":
            with factory() as s:
                warm_run, run = MemoryRun(s, warm), MemoryRun(s, plans)
            engine.dispose()
            warm_run.run()

            def work():
                return run.run()
        else:
            ctx = EngineContext(ManualClock(START))
            if mode == "to_handle":  # set-up for the timer bench: stop where handling (and its timers) starts
                for plan in plans:
                    plan.steps = plan.steps[:[s for s, _ in plan.steps].index("handle")]
            elif mode == "start_only":  # set-up for the HTTP bench: supervisor reports waiting for acceptance
                for plan in plans:
                    plan.report["source"], plan.steps = "supervisor", []
            else:
                run_persisted(factory, ctx, warm)

            def work():
                return run_persisted(factory, ctx, plans)
        ready.put(os.getpid())
        go.wait()
        profiler = cProfile.Profile() if profile_path else None
        t0 = time.monotonic()
        if profiler:
            profiler.enable()
        stats = work()
        if profiler:
            profiler.disable()
        t1 = time.monotonic()
        if profiler and profile_path:
            _write_profile(profiler, profile_path, stats, t1 - t0, url)
        results.put({"ok": True, "t0": t0, "t1": t1, "rss_mb": peak_rss_mb(), **stats})
    except BaseException:  # noqa: BLE001 — reported to the parent
        report_failure(results, ready)


def _write_profile(profiler: cProfile.Profile, path: str, stats: dict[str, int], seconds: float, url: str) -> None:
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    out = io.StringIO()
    out.write(f"cProfile of engine.commands (persisted, {backend}, one process): {stats['starts']} cases, "
              f"{stats['completions']} completions in {seconds:.2f} s under the profiler "
              f"({stats['completions'] / seconds:.0f}/s; the profiler itself slows it down).\n\n")
    out.write("== top 25 by cumulative time\n")
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    out.write("\n== top 25 by own (total) time\n")
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    Path(path).write_text(out.getvalue(), encoding="utf-8")


def run_processes(mode: str, url: str, total: int, procs: int, profile_path: str | None = None) -> dict[str, Any]:
    """Run ``total`` cases split over ``procs`` spawned processes; returns throughput and details."""
    share = total // procs
    outs = spawn_all(_worker, [(mode, url, share, i * 1_000_000, profile_path) for i in range(procs)])
    wall = max(o["t1"] for o in outs) - min(o["t0"] for o in outs)
    # Commands only: each process's time without its task-id lookups; the slowest process counts.
    seconds = max(o["t1"] - o["t0"] - o.get("lookup_seconds", 0.0) for o in outs)
    completions = sum(o["completions"] for o in outs)
    return {"per_second": completions / seconds, "seconds": seconds, "completions": completions,
            "wall_per_second": completions / wall, "lookup_share": sum(o.get("lookup_seconds", 0.0) for o in outs)
            / sum(o["t1"] - o["t0"] for o in outs),
            "starts": sum(o["starts"] for o in outs), "conflicts": sum(o["conflicts"] for o in outs),
            "rss_mb": max((o["rss_mb"] or 0) for o in outs)}


# --- the section ------------------------------------------------------------------------------------

def run(results: Results, scratch: Scratch, quick: bool, out_dir: Path, cases: int | None = None,
        profile: bool = True, keep: dict[str, str] | None = None) -> None:
    # Longer than 60 lines on purpose: one bench section, its measurements in the order they are reported.
    """Run the section; with ``keep``, the single-process databases (real cases with history) are
    handed over as {backend: url} instead of dropped (the audit section replays them)."""
    try:
        import engine.commands  # noqa: F401
    except ModuleNotFoundError as exc:
        results.note(f"skipped: engine.commands is not importable ({exc})")
        return
    total = cases or (100 if quick else 2000)
    total -= total % 2
    mix_note = (f"{total} cases per run, {completions_of(make_plans_dummy(total))} user-task completions "
                f"(≈ {completions_of(make_plans_dummy(total)) / total:.2f} per case: happy path, supervisor "
                f"reports, reworks, returns, extensions), {IN_FLIGHT} cases in flight round-robin, clock +2 s per "
                f"command; completions/s = completions ÷ time of the whole run (case starts included)")
    results.note(mix_note)
    if quick:
        results.note("quick mode: the 2-process runs are skipped")
    city_url = scratch.city("sqlite")  # also used by the in-memory run for calendar/locator/forms
    log(f"engine: in memory, {total} cases, 1 process")
    memory1 = run_processes("memory", city_url, total, 1)
    results.add("in memory (SpiffWorkflow only), 1 process", memory1["per_second"], "compl/s")
    log(f"engine: in memory: {memory1['per_second']:.0f}/s")
    memory2 = None
    if not quick:
        memory2 = run_processes("memory", city_url, total, 2)
        results.add("in memory (SpiffWorkflow only), 2 processes", memory2["per_second"], "compl/s")
    scratch.drop(city_url)

    for backend in scratch.backends():
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        url = scratch.city(backend)
        log(f"engine: persisted on {name}, {total} cases, 1 process")
        single = run_processes("persisted", url, total, 1)
        results.note(f"{name}, 1 process: the task-id lookups before each command (one indexed SELECT, what the "
                     f"inbox page hands a user) took {single['lookup_share']:.0%} of the wall time and are not "
                     f"counted; with them: {single['wall_per_second']:.0f} completions/s")
        results.add(f"persisted {name}, 1 process", single["per_second"], "compl/s", TARGETS[backend])
        results.add(f"persisted {name} / in memory (1 process)", single["per_second"] / memory1["per_second"],
                    "ratio", RATIO_TARGETS[backend])
        log(f"engine: {name} 1 process: {single['per_second']:.0f}/s")
        if keep is not None:
            keep[backend] = url
        else:
            scratch.drop(url)
        if not quick:
            url = scratch.city(backend)
            log(f"engine: persisted on {name}, {total} cases, 2 processes")
            double = run_processes("persisted", url, total, 2)
            results.add(f"persisted {name}, 2 processes", double["per_second"], "compl/s")
            if memory2:
                results.add(f"persisted {name} / in memory (2 processes)",
                            double["per_second"] / memory2["per_second"], "ratio")
            if backend == "sqlite" and double["per_second"] < 1.2 * single["per_second"]:
                results.note("SQLite, 2 processes: hardly faster than one — a command holds the write lock from "
                             "BEGIN IMMEDIATE to COMMIT, its Python work included, so writers run one at a time")
            if double["conflicts"]:
                results.note(f"{name}, 2 processes: {double['conflicts']} commands hit a lock/version conflict "
                             "and were retried (counted once, time included)")
            log(f"engine: {name} 2 processes: {double['per_second']:.0f}/s")
            scratch.drop(url)

    if profile:
        url = scratch.city("sqlite")
        n = min(200, total)
        path = out_dir / "profile_engine.txt"
        log(f"engine: cProfile of {n} persisted cases on SQLite -> {path}")
        run_processes("persisted", url, n, 1, profile_path=str(path))
        results.note(f"cProfile of the persisted SQLite run ({n} cases): {path.name}")
        scratch.drop(url)


def make_plans_dummy(total: int) -> list[CasePlan]:
    """Plans with the right steps but no city (only to count completions for the notes)."""
    from bench.common import MIX, PLANS

    return [CasePlan(MIX[i % len(MIX)], {}, PLANS[MIX[i % len(MIX)]], "") for i in range(total)]

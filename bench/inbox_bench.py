"""Section 2 — the inbox: first-page latency of every role's queue at 100,000 and 1,000,000 cases.

Rows are bulk-loaded by ``bench.loader`` (not run through the engine): 100,000 open cases with
one open task each (the design's 100,000 open tasks), timed, then 900,000 closed cases of past
years added, timed again. Each query is ``engine.queries.visible_tasks`` — the function behind
the inbox page (a per-light count plus the first page of 50, joined with case and class rows). Parameters
rotate over districts and departments so that not one cached page is timed; each query runs
``REPEAT`` times after ``WARM`` untimed runs, in a session of its own like a request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.common import START, Scratch, log, percentile
from bench.report import Results

TARGET = "<= 20"
DISTRICTS = ("330191", "330192", "330193")


def queries(handler_departments: list[str]) -> list[tuple[str, Callable[[int], dict[str, Any]]]]:
    """(label, params for iteration i): every role's typical first page."""
    sanitation = [d for d in handler_departments if d.startswith("sanitation@")] or handler_departments[:3]

    def dept(i: int) -> str:
        return sanitation[i % len(sanitation)]

    def user(d: str) -> str:
        return "handler_" + d.replace("@", "_")

    return [
        ("supervisor (district)", lambda i: dict(role="supervisor", tab="group", district_code=DISTRICTS[i % 3])),
        ("supervisor (district) red", lambda i: dict(role="supervisor", tab="group", district_code=DISTRICTS[i % 3],
                                                     light="red")),
        ("acceptor", lambda i: dict(role="acceptor", tab="group")),
        ("shift leader", lambda i: dict(role="shift_leader", tab="group")),
        ("dispatcher", lambda i: dict(role="dispatcher", tab="group")),
        ("dispatcher yellow", lambda i: dict(role="dispatcher", tab="group", light="yellow")),
        ("handler (department)", lambda i: dict(role="handler", tab="group", department_code=dept(i))),
        ("handler (department) red", lambda i: dict(role="handler", tab="group", department_code=dept(i),
                                                    light="red")),
        ("handler my tasks", lambda i: dict(role="handler", tab="mine", department_code=dept(i),
                                            username=user(dept(i)))),
        ("leader (department)", lambda i: dict(role="leader", tab="group", department_code=dept(i))),
    ]


def inbox_page(session, role: str, tab: str = "group", department_code: str | None = None,
               district_code: str | None = None, light: str | None = None, username: str = "bench") -> Any:
    """What the inbox page runs: ``engine.queries.visible_tasks`` with the per-light counts."""
    from engine.model import Actor, Light
    from engine.queries import Tab, TaskFilters, visible_tasks

    actor = Actor(username, role, department_code, district_code)
    filters = TaskFilters(tab=Tab(tab), light=Light(light) if light else None)
    return visible_tasks(session, actor, filters, None, at=START, with_counts=True)


def measure(url: str, handler_departments: list[str], fn: Callable[..., Any], repeat: int,
            warm: int = 5) -> tuple[dict[str, list[float]], dict[str, dict[str, float]]]:
    """Per query: the samples (s), and the median time spent in its count and its page statements."""
    from sqlalchemy import event

    from engine.db import make_engine, session_factory

    engine = make_engine(url)
    factory = session_factory(engine)
    timings: dict[str, list[float]] = {}
    split: dict[str, dict[str, float]] = {}
    spent = {"counts": 0.0, "page": 0.0}

    def before(conn, _cursor, _statement, _params, _context, _many):
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn, _cursor, statement, _params, _context, _many):
        kind = "counts" if "coalesce(sum(" in statement.lower() else "page"
        spent[kind] += time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for label, params in queries(handler_departments):
            for i in range(warm):
                with factory() as s:
                    fn(s, **params(i))
            samples, counts, pages = [], [], []
            for i in range(repeat):
                p = params(i)
                spent["counts"] = spent["page"] = 0.0
                with factory() as s:
                    t0 = time.perf_counter()
                    fn(s, **p)
                    samples.append(time.perf_counter() - t0)
                counts.append(spent["counts"])
                pages.append(spent["page"])
            timings[label] = samples
            split[label] = {"counts": percentile(counts, 50) * 1000, "page": percentile(pages, 50) * 1000,
                            "total": percentile(samples, 50) * 1000}
    finally:
        engine.dispose()
    return timings, split


def run(results: Results, scratch: Scratch, quick: bool, sizes: list[int] | None = None,
        repeat: int | None = None) -> None:
    # Longer than 60 lines on purpose: one bench section, its measurements in the order they are reported.
    from bench import loader

    try:
        import engine.models  # noqa: F401
    except ModuleNotFoundError as exc:
        results.note(f"skipped: engine.models is not importable ({exc})")
        return
    fn = inbox_page
    sizes = sizes or ([10_000] if quick else [100_000, 1_000_000])
    repeat = repeat or (30 if quick else 100)
    open_tasks = min(100_000, sizes[0])
    results.note(f"rows bulk-loaded, not run through the engine (bench/loader.py): {open_tasks:,} open cases with "
                 f"one open task each, the rest closed cases of past years; each query = one inbox page "
                 f"(per-light counts + first 50 rows), {repeat} runs after 5 warm-up runs, parameters rotating")
    base = results.section
    for backend in scratch.backends():
        name = "SQLite" if backend == "sqlite" else "PostgreSQL"
        url = scratch.city(backend)
        from engine.db import make_engine, session_factory

        engine = make_engine(url)
        with session_factory(engine)() as s:
            city = loader.read_city(s)
        engine.dispose()
        loaded = 0
        first_id = loader.next_case_id(url)
        try:
            for size in sizes:
                with_tasks = loaded == 0
                count = (open_tasks if with_tasks else size - loaded)
                log(f"inbox: bulk-loading {count:,} {'open' if with_tasks else 'closed'} cases into {name}")
                stats = loader.load(url, city, first_id + loaded, count, with_tasks, seed=11 + loaded)
                loaded += count
                if with_tasks and size > loaded:
                    more = size - loaded
                    log(f"inbox: bulk-loading {more:,} closed cases into {name}")
                    extra = loader.load(url, city, first_id + loaded, more, False, seed=11 + loaded)
                    loaded += more
                    stats["seconds"] += extra["seconds"]
                    stats["cases"] += more
                results.section = f"{base} — {name}, {loaded:,} cases, {open_tasks:,} open tasks"
                results.add("bulk load (rows/s, not the engine)", stats["cases"] / stats["seconds"], "cases/s")
                log(f"inbox: timing {name} at {loaded:,} cases")
                timings, split = measure(url, city.handler_departments, fn, repeat)
                worst = []
                slow = []
                for label, samples in timings.items():
                    ms = [s * 1000 for s in samples]
                    results.add(f"{label} p50", percentile(ms, 50), "ms")
                    entry = results.add(f"{label} p95", percentile(ms, 95), "ms", TARGET)
                    results.add(f"{label} p99", percentile(ms, 99), "ms")
                    worst.append((percentile(ms, 95), label))
                    if entry.met is False:
                        sp = split[label]
                        slow.append(f"{label} {sp['total']:.1f} = counts {sp['counts']:.1f} + page {sp['page']:.1f}")
                if slow:
                    results.note("where the time of the queries over the target goes (medians, ms; the rest is "
                                 "Python): " + "; ".join(slow))
                top = max(worst)
                log(f"inbox: {name} {loaded:,} cases: slowest p95 {top[0]:.1f} ms ({top[1]})")
        finally:
            results.section = base
            scratch.drop(url)
    if quick:
        results.note("quick mode: one small table only; the target is for 1,000,000 cases")

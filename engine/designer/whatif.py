"""What-if: the same simulated city run on two versions, side by side.

Each version runs in its own throw-away SQLite database holding the demo city (same city seed,
same calendar) with that version active, driven by engine.demo.simulate's Simulator with the same
seed over the same simulated days. Nothing touches the real database. The figures a designer
compares: cases per department, handling deadlines met / warned / overdue, escalations and
mean working-clock hours to close.

``replay`` does the same with the real reports of the last days: the city's own places,
departments, classes and calendar are copied into each throw-away database, and every report
of the window comes in again at its own instant on a simulated clock, under each version; the
simulated actors then follow each replayed case to its end.
"""

from __future__ import annotations

import random
import statistics
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import ManualClock
from engine.db import make_engine, session_factory, transaction, upgrade
from engine.errors import ValidationError
from engine.model import EngineContext
from engine.models import Case, Outbox

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, as the CLI's simulate uses
MAX_CASES = 2000


@dataclass(frozen=True)
class Figures:
    cases: int
    closed: int
    per_department: dict[str, int]
    met: int  # closed with no warning and no overdue mark
    warned: int  # warned, never overdue
    overdue: int
    escalations: int
    mean_hours_to_close: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Replay:
    """The real reports of ``days`` days up to ``until``, run again on both versions."""

    days: int
    since: datetime
    until: datetime
    reports: int
    before: Figures
    after: Figures

    def as_dict(self) -> dict[str, Any]:
        return {"days": self.days, "since": self.since.isoformat(), "until": self.until.isoformat(),
                "reports": self.reports, "before": self.before.as_dict(), "after": self.after.as_dict()}


@dataclass(frozen=True)
class WhatIf:
    seed: int
    days: int
    cases_per_day: int
    before: Figures
    after: Figures

    def as_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "days": self.days, "cases_per_day": self.cases_per_day,
                "before": self.before.as_dict(), "after": self.after.as_dict()}


def _figures(factory: Any, summary: dict[str, Any]) -> Figures:
    with factory() as s:
        rows = s.execute(select(Case.id, Case.department_code, Case.outcome, Case.created_at, Case.closed_at)).all()
        marks: dict[int, set[str]] = {}
        for case_id, kind in s.execute(select(Outbox.case_id, Outbox.kind).where(
                Outbox.kind.in_(("deadline_warning", "overdue")))):
            marks.setdefault(case_id, set()).add(kind)
        total = s.scalar(select(func.count(Case.id))) or 0
    per_department = Counter(r.department_code or "-" for r in rows)
    closed = [r for r in rows if r.outcome == "closed" and r.closed_at]
    overdue = sum(1 for m in marks.values() if "overdue" in m)
    warned = sum(1 for m in marks.values() if m == {"deadline_warning"})
    met = sum(1 for r in closed if r.id not in marks)
    hours = [(r.closed_at - r.created_at).total_seconds() / 3600 for r in closed]
    return Figures(total, len(closed), dict(sorted(per_department.items())), met, warned, overdue,
                   int(summary.get("escalations", 0)), round(statistics.fmean(hours), 2) if hours else None)


def effort_simulator() -> type:
    """The demo Simulator with the same reports for every version and handlers whose effort does
    not follow the version under test (through the simulator's public extension points).

    The demo's actors act at a random share of each step's limit, so a shorter limit would only
    make them faster. Here the handling step takes a share of the class's suggested limit from
    the city's data (the same under both versions)."""
    from engine.demo.simulate import CaseSim, Simulator
    from engine.models import ProblemClass, TaskRow

    class EffortSimulator(Simulator):
        def __init__(self, factory: Any, ctx: Any, seed: int) -> None:
            super().__init__(factory, ctx, seed)
            # Reports come from their own sequence and each case's actors from the case's own, so
            # both versions get the same reports and a change that alters one case's path does
            # not shift the random draws of every other case.
            self.seed, self.report_rng = seed, random.Random(seed + 1)
            self.case_rngs: dict[int, random.Random] = {}
            with self.factory() as s:
                self.effort = {c.code: (c.suggested_limit, c.suggested_unit) for c in s.scalars(select(ProblemClass))}

        def report_random(self) -> random.Random:
            return self.report_rng

        def case_random(self, case_id: int) -> random.Random:
            if case_id not in self.case_rngs:
                sim = self.cases.get(case_id)  # a replayed report keeps its draws whatever its new case id
                self.case_rngs[case_id] = random.Random(f"{self.seed}:{sim.key if sim and sim.key else case_id}")
            return self.case_rngs[case_id]

        def act_at(self, sim: CaseSim, row: TaskRow, rng: random.Random) -> datetime:
            if row.spec_id != "handle" or row.class_code not in self.effort:
                return super().act_at(sim, row, rng)
            amount, unit = self.effort[row.class_code]
            frac = rng.uniform(1.05, 1.5) if sim.plan.late else rng.uniform(0.1, 0.75)
            at = self.calendar.add_working_time(row.created_at, max(0.02, frac * amount), unit)
            return max(at, self.clock.now() + timedelta(minutes=1))

    return EffortSimulator


def run_version(files: dict[str, str], *, seed: int, days: int, cases_per_day: int, config: dict[str, Any],
                work_dir: Path) -> Figures:
    """Run one version on a fresh simulated city; returns its figures."""
    from engine.calendar import seed_calendar
    from engine.definitions import deploy
    from engine.demo.seed import seed_demo

    url = f"sqlite:///{work_dir / 'city.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        factory = session_factory(engine)
        with transaction(factory) as s:
            seed_demo(s, seed=1)
            seed_calendar(s, [START.year, START.year + 1], config["WORK_WINDOWS"], config["TIMEZONE"])
            deploy(s, files, "what-if", START)
        ctx = EngineContext(ManualClock(START), config["TIMEZONE"], config["WORK_WINDOWS"])
        summary = effort_simulator()(factory, ctx, seed).run(days=days, cases_per_day=cases_per_day)
        return _figures(factory, summary)
    finally:
        engine.dispose()


def compare(before: dict[str, str], after: dict[str, str], *, seed: int = 1, days: int = 3, cases_per_day: int = 40,
            config: dict[str, Any] | None = None) -> WhatIf:
    """Both versions on the same simulated city, seed and days."""
    if days < 1 or cases_per_day < 1 or days * cases_per_day > MAX_CASES:
        raise ValidationError(f"days and cases per day must be positive, at most {MAX_CASES} reports in all")
    cfg = {"WORK_WINDOWS": "08:30-12:00,13:30-17:30", "TIMEZONE": "Asia/Shanghai", **(config or {})}
    results = []
    for files in (before, after):
        with tempfile.TemporaryDirectory(prefix="citycase-whatif-") as tmp:
            results.append(run_version(files, seed=seed, days=days, cases_per_day=cases_per_day, config=cfg,
                                       work_dir=Path(tmp)))
    return WhatIf(seed, days, cases_per_day, results[0], results[1])


# --- the last days of real reports ---------------------------------------------------------------

MAX_REPLAY_DAYS = 31


@dataclass(frozen=True)
class CitySnapshot:
    """The real city's reference rows (places, departments, classes, calendar), table by table in
    an order that satisfies the foreign keys, and its reports of the window."""

    rows: list[tuple[Any, list[dict[str, Any]]]]
    arrivals: list[Any]


def _regions_parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    placed: set[str] = set()
    ordered: list[dict[str, Any]] = []
    todo = list(rows)
    while todo:
        ready = [r for r in todo if r["parent_code"] is None or r["parent_code"] in placed]
        if not ready:  # a parent outside the table: keep the rest as they are
            ready = todo
        ordered.extend(ready)
        placed.update(r["code"] for r in ready)
        todo = [r for r in todo if r["code"] not in placed]
    return ordered


def snapshot(session: Session, since: datetime, until: datetime) -> CitySnapshot:
    """What a replay needs from the real database: read only, one pass."""
    import orjson

    from engine.demo.simulate import SOURCES, Arrival
    from engine.models import CalendarDay, Department, Event, GridCell, ProblemClass, Region

    rows = []
    for model in (Region, GridCell, Department, ProblemClass, CalendarDay):
        table = model.__table__
        found = [dict(r._mapping) for r in session.execute(select(table))]
        rows.append((table, _regions_parents_first(found) if model is Region else found))
    arrivals = []
    query = (select(Case.number, Case.created_at, Case.source, Case.class_code, Case.lon, Case.lat, Event.data)
             .join(Event, (Event.case_id == Case.id) & (Event.seq == 1))
             .where(Case.created_at >= since, Case.created_at <= until).order_by(Case.created_at, Case.id))
    for r in session.execute(query):
        initial = (orjson.loads(r.data) if r.data else {}).get("initial") or {}
        arrivals.append(Arrival(r.created_at, r.source if r.source in SOURCES else "citizen", r.class_code,
                                r.lon, r.lat, bool(initial.get("self_handled")), r.number))
    return CitySnapshot(rows, arrivals)


def replay_version(files: dict[str, str], city: CitySnapshot, *, since: datetime, seed: int,
                   config: dict[str, Any], work_dir: Path) -> Figures:
    """The window's real reports on one version, in a throw-away copy of the real city."""
    from engine.definitions import deploy

    url = f"sqlite:///{work_dir / 'replay.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        factory = session_factory(engine)
        with transaction(factory) as s:
            for table, rows in city.rows:
                if rows:
                    s.execute(table.insert(), rows)
            deploy(s, files, "what-if", since)
        ctx = EngineContext(ManualClock(since), config["TIMEZONE"], config["WORK_WINDOWS"])
        summary = effort_simulator()(factory, ctx, seed).run(arrivals=city.arrivals)
        return _figures(factory, summary)
    finally:
        engine.dispose()


def replay(session: Session, before: dict[str, str], after: dict[str, str], *, days: int, now: datetime,
           seed: int = 1, config: dict[str, Any] | None = None) -> Replay:
    """The last ``days`` days of real reports (up to ``now``) run again on both versions."""
    if not 1 <= days <= MAX_REPLAY_DAYS:
        raise ValidationError(f"replay between 1 and {MAX_REPLAY_DAYS} days of real reports")
    since = now - timedelta(days=days)
    city = snapshot(session, since, now)
    if len(city.arrivals) > MAX_CASES:
        raise ValidationError(f"{len(city.arrivals)} reports in {days} days; replay at most {MAX_CASES}: "
                              "choose fewer days")
    cfg = {"WORK_WINDOWS": "08:30-12:00,13:30-17:30", "TIMEZONE": "Asia/Shanghai", **(config or {})}
    results = []
    for files in (before, after):
        with tempfile.TemporaryDirectory(prefix="citycase-replay-") as tmp:
            results.append(replay_version(files, city, since=since, seed=seed, config=cfg, work_dir=Path(tmp)))
    return Replay(days, since, now, len(city.arrivals), results[0], results[1])


__all__ = ["CitySnapshot", "Figures", "Replay", "WhatIf", "compare", "effort_simulator", "replay", "run_version",
           "snapshot"]

"""What-if on the last days of real reports: its figures are those of the same reports run for real on
each version (in a scratch database built the ordinary way: demo city, calendar, that version deployed)."""

from __future__ import annotations

import statistics
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.calendar import seed_calendar
from engine.db import make_engine, session_factory, transaction, upgrade
from engine.definitions import deploy
from engine.demo.seed import seed_demo
from engine.demo.simulate import Arrival, Simulator
from engine.designer.whatif import effort_simulator, replay
from engine.errors import ValidationError
from engine.model import EngineContext
from engine.models import Case, Event, GridCell, Outbox
from tests.engine.designer.helpers import bpmn_files, with_department, with_first_limit

ROAD_COLLAPSE, DUMPED = "E0401", "E0102"  # the first time-limit rule; a class with a dispatch rule


def _real_history(city, clock) -> None:
    """Two working days of reports of the two classes the proposal changes, filed and handled on
    the active version (simulated actors, real engine)."""
    with city.session() as s:
        cells = list(s.scalars(select(GridCell).order_by(GridCell.code).limit(6)))
    arrivals = [Arrival(clock.now() + timedelta(hours=0.7 * i), "citizen", (ROAD_COLLAPSE, DUMPED)[i % 2],
                        (c.min_lon + c.max_lon) / 2, (c.min_lat + c.max_lat) / 2, key=f"r{i}")
                for i, c in enumerate(cells * 2)]
    Simulator(city.factory, EngineContext(clock), seed=2).run(arrivals=arrivals)


def _for_real(files: dict[str, str], arrivals: list[Arrival], since, tmp: Path) -> dict:
    """The same reports on ``files`` in a scratch database; the figures counted here, not by what-if."""
    from engine.clock import ManualClock

    tmp.mkdir()
    url = f"sqlite:///{tmp / 'scratch.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        factory = session_factory(engine)
        with transaction(factory) as s:
            seed_demo(s, seed=1)
            seed_calendar(s, [2025, 2026, 2027], "08:30-12:00,13:30-17:30", "Asia/Shanghai")
            deploy(s, files, "scratch", since)
        effort_simulator()(factory, EngineContext(ManualClock(since)), 1).run(arrivals=arrivals)
        with factory() as s:
            cases = s.execute(select(Case.id, Case.department_code, Case.outcome, Case.created_at,
                                     Case.closed_at)).all()
            kinds = s.execute(select(Outbox.case_id, Outbox.kind)).all()
            escalations = len(s.scalars(select(Event.id).where(Event.task_spec == "escalate")).all())
    finally:
        engine.dispose()
    overdue = {c for c, k in kinds if k == "overdue"}
    warned = {c for c, k in kinds if k == "deadline_warning"} - overdue
    closed = [c for c in cases if c.outcome == "closed"]
    departments: dict[str, int] = {}
    for c in cases:
        departments[c.department_code or "-"] = departments.get(c.department_code or "-", 0) + 1
    hours = [(c.closed_at - c.created_at).total_seconds() / 3600 for c in closed]
    return {"cases": len(cases), "closed": len(closed), "per_department": departments,
            "met": len([c for c in closed if c.id not in overdue | warned]), "warned": len(warned),
            "overdue": len(overdue), "escalations": escalations,
            "mean_hours_to_close": round(statistics.fmean(hours), 2) if hours else None}


def test_replay_matches_the_same_reports_run_for_real_on_each_version(city, clock, tmp_path):
    since = clock.now()
    _real_history(city, clock)  # the simulated actors ran the clock on until every case ended
    with city.session() as s:  # the real reports, keyed by their real case numbers
        arrivals = [Arrival(c.created_at, c.source, c.class_code, c.lon, c.lat, key=c.number)
                    for c in s.scalars(select(Case).order_by(Case.created_at, Case.id))]
    active = bpmn_files()
    proposed = with_first_limit(with_department(active, DUMPED, "sanitation@330192"), "0.2")
    with city.session() as s:
        result = replay(s, active, proposed, days=2, now=since + timedelta(days=1))
    assert result.reports == len(arrivals) == 12
    for name, files, figures in (("active", active, result.before), ("proposed", proposed, result.after)):
        assert figures.as_dict() == _for_real(files, arrivals, result.since, tmp_path / name), name
    # What the designer reads off the page: the changed class goes to its new department, and a
    # limit cut to a fifth of a work hour leaves more road collapses overdue.
    assert result.after.per_department.get("sanitation@330192", 0) > result.before.per_department.get(
        "sanitation@330192", 0)
    assert result.after.overdue > result.before.overdue
    assert since >= result.since


def test_replay_refuses_a_window_it_cannot_run(city, clock):
    with city.session() as s, pytest.raises(ValidationError):
        replay(s, bpmn_files(), bpmn_files(), days=0, now=clock.now())

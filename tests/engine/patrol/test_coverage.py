"""Grid coverage per day (cells visited) and the supervisors' evaluation that it feeds."""

from __future__ import annotations

from datetime import timedelta

from engine.evaluation.compute import Period, evaluate
from engine.evaluation.metrics import Kind, Metric, Rate
from engine.patrol.coverage import coverage
from engine.patrol.duty import end_duty, start_duty
from engine.patrol.positions import record_batch
from engine.patrol.roster import set_shift
from tests.engine.patrol.kit import DAY, TZ, cells, local, walk


def _patrol(db, user: str, day_offset: int, places, rostered) -> None:
    day = DAY + timedelta(days=day_offset)
    at = lambda hhmm: local(hhmm, day)  # noqa: E731
    with db.session() as s:
        set_shift(s, user, day, "08:30", "17:30", [c for c, _, _ in rostered], TZ)
        start_duty(s, user, at("08:30"))
        record_batch(s, user, {"points": walk(at("09:00"), places)}, at("12:00"))
        end_duty(s, user, at("17:30"))


def test_cells_visited_per_day_and_the_rostered_ones_covered(city):
    c = cells(city, 4)
    _patrol(city, "supervisor1", 0, places=c[:3], rostered=c[1:4])
    with city.session() as s:
        (day,) = coverage(s, DAY, TZ)
    assert (len(day.visited), len(day.assigned), sorted(day.covered)) == (3, 3, sorted([c[1][0], c[2][0]]))


def test_the_supervisor_evaluation_counts_cell_days_and_the_coverage_rate(city):
    c = cells(city, 4)
    _patrol(city, "supervisor1", 0, places=c[:2], rostered=c[:4])  # 2 of 4
    _patrol(city, "supervisor1", 1, places=c[:4], rostered=c[:4])  # 4 of 4
    _patrol(city, "supervisor3", 0, places=c[:1], rostered=c[:2])  # 1 of 2
    period = Period(local("00:00"), local("00:00", DAY + timedelta(days=2)), "two days")
    with city.session() as s:
        result = evaluate(s, period, timezone=TZ).kinds[Kind.SUPERVISOR]
    units = {u.key: u for u in result.units}
    one = units["supervisor1"]
    assert (one.counts[Metric.PATROL_CELLS], one.counts[Metric.PATROL_CELLS_ASSIGNED],
            one.counts[Metric.PATROL_CELLS_COVERED]) == (6, 8, 6)
    assert one.rates[Rate.PATROL_COVERAGE] == 75.0
    assert units["supervisor3"].rates[Rate.PATROL_COVERAGE] == 50.0
    assert result.total.counts[Metric.PATROL_CELLS_ASSIGNED] == 10

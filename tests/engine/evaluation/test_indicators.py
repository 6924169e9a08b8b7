"""Indicators of a simulated month against an independent count from the raw event rows; the
drill-down lists as many cases as each number; Excel totals; snapshots immutable and checked."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from engine.clock import ManualClock
from engine.demo.simulate import Simulator
from engine.evaluation import TOTAL, Kind, Metric, Rate, cases_behind, evaluate
from engine.evaluation.excel import workbook
from engine.evaluation.periods import days_period, month_period
from engine.evaluation.snapshots import canonical, chain_hash, freeze, verify_snapshots
from engine.model import EngineContext
from engine.models import EvaluationSnapshot, Event
from tests.conftest import BACKENDS, _make

TZ = "Asia/Shanghai"
SIM_START = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # 2026-10-01 00:00 in Shanghai


def _independent(db, start, end):
    """Counts by department and district straight from the event rows (not engine.evaluation)."""
    dept: dict[tuple[str, str], set[int]] = defaultdict(set)
    district: dict[tuple[str, str], set[int]] = defaultdict(set)
    with db.factory() as s:
        rows = s.execute(select(Event.case_id, Event.at, Event.kind, Event.task_spec, Event.data)
                         .order_by(Event.case_id, Event.seq)).all()
    current: dict[int, dict] = {}
    for case_id, at, kind, spec, raw in rows:
        data = json.loads(raw)
        c = current.setdefault(case_id, {"dept": None, "due": None, "district": None})
        inside = start <= at < end
        form = data.get("form") or {}
        deadlines = {s["op"]: datetime.fromisoformat(s["result"]["due_at"]) for s in data.get("services", [])
                     if isinstance(s.get("result"), dict) and "due_at" in s["result"]}
        if kind == "start":
            c["district"] = data["report"]["district_code"]
            if inside:
                district[(c["district"], "reported")].add(case_id)
        if kind != "complete":
            continue
        if spec == "dispatch":
            c["dept"], c["due"] = form["department"], deadlines["start_deadline"]
            if inside:
                dept[(c["dept"], "dispatched")].add(case_id)
        elif spec == "handle" and form.get("outcome") == "done" and inside:
            if case_id not in dept[(c["dept"], "handled")]:
                dept[(c["dept"], "handled")].add(case_id)
                if at <= c["due"]:
                    dept[(c["dept"], "handled_on_time")].add(case_id)
        elif spec == "approve_extension" and form.get("decision") == "approve":
            c["due"] = deadlines["extend_deadline"]
        elif spec == "resume":
            c["due"] = deadlines["resume_deadline"]
        elif spec == "check" and form.get("verdict") == "failed":
            c["due"] = deadlines["start_deadline"]
            if inside:
                dept[(c["dept"], "reworked")].add(case_id)
        elif spec == "file" and inside:
            district[(c["district"], "filed" if form["decision"] == "file" else "voided")].add(case_id)
        elif spec == "confirm_self_handled" and form.get("decision") == "close" and inside:
            district[(c["district"], "filed")].add(case_id)  # 自处理: filed and closed at once
        elif spec == "close" and inside:
            dept[(c["dept"], "closed")].add(case_id)
    return dept, district


@pytest.fixture(scope="module", params=BACKENDS)
def simulated(request, _templates):
    """One simulated October per backend, shared by the tests of this module (they only add
    snapshots, which the other tests do not read)."""
    made = _make(request, _templates, request.param, True)
    db = next(made)
    clock = ManualClock(SIM_START)
    Simulator(db.factory, EngineContext(clock), seed=3).run(days=31, cases_per_day=6)
    yield db, month_period(2026, 10, TZ), clock
    next(made, None)


@pytest.fixture
def city(simulated):
    return simulated[0]


@pytest.fixture
def month(simulated):
    return simulated[1], simulated[2]


def test_month_indicators_match_raw_events(city, month):
    period, _ = month
    with city.factory() as s:
        ev = evaluate(s, period)
    dept, district = _independent(city, period.start, period.end)
    departments = {u.key: u for u in ev.kinds[Kind.DEPARTMENT].units}
    assert departments, "the simulated month has departments to rank"
    for (code, name), ids in dept.items():
        assert departments[code].counts[Metric(name)] == len(ids), (code, name)
    for unit in departments.values():
        for name in ("dispatched", "handled", "handled_on_time", "reworked", "closed"):
            assert unit.counts[Metric(name)] == len(dept.get((unit.key, name), ())), (unit.key, name)
        if unit.counts[Metric.HANDLED]:
            expected = round(100 * unit.counts[Metric.HANDLED_ON_TIME] / unit.counts[Metric.HANDLED], 2)
            assert unit.rates[Rate.ON_TIME_HANDLE_RATE] == expected
    districts = {u.key: u for u in ev.kinds[Kind.DISTRICT].units}
    for (code, name), ids in district.items():
        assert districts[code].counts[Metric(name)] == len(ids), (code, name)
    # Grades follow the bands in the table (A ≥ 90, B ≥ 75, …).
    for u in ev.kinds[Kind.DEPARTMENT].units:
        if u.score is not None:
            assert u.grade == next(g for g, m in (("A", 90), ("B", 75), ("C", 60), ("D", 40), ("E", 0))
                                   if u.score >= m)


def test_only_the_candidate_cases_are_walked_and_nothing_changes(city, month):
    period, _ = month
    later = days_period(date(2026, 10, 20), date(2026, 10, 31), TZ)
    with city.factory() as s:
        narrow = evaluate(s, later)
        everything = evaluate(s, later, narrow=False)
    assert narrow.as_dict() == everything.as_dict()
    assert narrow.cases == everything.cases and narrow.events < everything.events


def test_drill_down_counts_equal_the_numbers(city, month):
    period, _ = month
    with city.factory() as s:
        ev = evaluate(s, period)
        dept = ev.kinds[Kind.DEPARTMENT]
        busiest = max(dept.units, key=lambda u: u.counts[Metric.DISPATCHED])
        for metric in (Metric.DISPATCHED, Metric.HANDLED_ON_TIME, Metric.CLOSED, Metric.OVERDUE):
            assert len(cases_behind(s, period, Kind.DEPARTMENT, busiest.key, metric)) == busiest.counts[metric]
        total = dept.total
        assert len(cases_behind(s, period, Kind.DEPARTMENT, TOTAL, Metric.CLOSED)) == total.counts[Metric.CLOSED]
        late = cases_behind(s, period, Kind.DEPARTMENT, TOTAL, Rate.ON_TIME_CLOSE_RATE)
        due = total.counts[Metric.CLOSED] + total.counts[Metric.OVERDUE]
        assert len(late) == due - total.counts[Metric.CLOSED_ON_TIME]


def test_excel_opens_and_totals_match(city, month):
    period, clock = month
    with city.factory() as s:
        ev = evaluate(s, period)
    result = ev.kinds[Kind.DEPARTMENT]
    wb = load_workbook(io.BytesIO(workbook([result], TZ, clock.now())))
    ws = wb.worksheets[0]
    assert "综合评价" in ws["A1"].value and period.label in ws["A2"].value
    header = [c.value for c in ws[3]]
    total_row = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "合计")
    col = header.index("结案数")
    assert total_row[col] == result.total.counts[Metric.CLOSED]
    body = [r for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert sum(r[header.index("派遣数")] for r in body) >= total_row[header.index("派遣数")] > 0


def test_snapshots_are_immutable_and_recomputed(city, month):
    period, clock = month
    with city.session() as s:
        snap = freeze(s, "2026-10", TZ, period.end + timedelta(days=1))
    with city.factory() as s:
        assert verify_snapshots(s, "2026-10", TZ).ok
    with pytest.raises(Exception, match="append-only"), city.session() as s:
        s.execute(text("UPDATE evaluation_snapshot SET content = '{}'"))
    # A snapshot whose numbers were not those of the events (chain intact) is reported.
    content = json.loads(snap.content)
    unit = content["kinds"]["department"]["units"][0]
    unit["counts"]["closed"] += 1
    body = canonical(content)
    with city.session() as s:
        s.add(EvaluationSnapshot(month="2026-09", period_start=period.start - timedelta(days=30),
                                 period_end=period.start, created_at=clock.now(), content=body,
                                 content_hash="x" * 64, prev_hash=snap.hash, hash=chain_hash(snap.hash, body)))
    with city.factory() as s:
        report = verify_snapshots(s, None, TZ)
    assert not report.ok
    assert any("closed" in d for d in report.differences)

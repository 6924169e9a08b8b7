"""``citycase evaluate`` and ``citycase evaluation-weights``: the numbers of the pages, Excel, snapshots, bad input."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cli import cli
from engine.clock import ManualClock
from engine.demo.simulate import Simulator
from engine.evaluation import Kind, evaluate
from engine.evaluation.periods import days_period
from engine.model import EngineContext


@pytest.fixture
def simulated(sqlite_city):
    clock = ManualClock(datetime(2026, 10, 11, 16, 0, tzinfo=UTC))  # 2026-10-12 00:00 local, a Monday
    Simulator(sqlite_city.factory, EngineContext(clock), seed=5).run(days=4, cases_per_day=8)
    return sqlite_city


def run(db, *args, code=0):
    result = CliRunner().invoke(cli, ["--database-url", db.url, *args])
    assert result.exit_code == code, result.output
    return result


def test_same_numbers_as_the_engine_and_excel(simulated, tmp_path):
    out = tmp_path / "dept.xlsx"
    doc = json.loads(run(simulated, "evaluate", "--from", "2026-10-12", "--to", "2026-10-15", "--json",
                         "--xlsx", str(out)).stdout)
    with simulated.factory() as s:
        ev = evaluate(s, days_period(date(2026, 10, 12), date(2026, 10, 15), "Asia/Shanghai"))
    assert doc["kinds"]["department"] == json.loads(json.dumps(ev.kinds[Kind.DEPARTMENT].as_dict()))
    assert doc["kinds"]["department"]["total"]["counts"]["dispatched"] > 0
    ws = load_workbook(out).worksheets[0]
    total = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "合计")
    header = [c.value for c in ws[3]]
    assert total[header.index("派遣数")] == doc["kinds"]["department"]["total"]["counts"]["dispatched"]
    text = run(simulated, "evaluate", "--period", "2026-10", "--kind", "region").stdout
    assert "合计" in text and "结案率" in text


def test_weights_change_the_scores_and_snapshots_verify(simulated):
    args = ("evaluate", "--period", "2026-10", "--kind", "dispatcher", "--json")
    before = json.loads(run(simulated, *args).stdout)["kinds"]["dispatcher"]["units"][0]["score"]
    run(simulated, "evaluation-weights", "--set", "dispatcher", "volume", "0")
    after = json.loads(run(simulated, *args).stdout)["kinds"]["dispatcher"]["units"][0]["score"]
    assert before != after
    run(simulated, "evaluate", "--snapshot", "2026-10")
    assert "already frozen" in run(simulated, "evaluate", "--snapshot", "2026-10", code=1).stderr
    assert "match" in run(simulated, "evaluate", "--verify-snapshot", "all").stdout


def test_bad_input_is_refused(sqlite_city):
    assert "not a date" in run(sqlite_city, "evaluate", "--from", "2026-13-01", "--to", "2026-12-01",
                               code=1).stderr
    assert "before it starts" in run(sqlite_city, "evaluate", "--from", "2026-10-02", "--to", "2026-10-01",
                                     code=1).stderr
    assert "not a month" in run(sqlite_city, "evaluate", "--period", "2026-1", code=1).stderr
    assert "unknown score term" in run(sqlite_city, "evaluation-weights", "--set", "department", "x", "0.1",
                                       code=1).stderr
    assert "has not ended" in run(sqlite_city, "evaluate", "--snapshot", "2999-01", code=1).stderr

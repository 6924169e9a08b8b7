"""``citycase definitions …`` and ``citycase migrate`` end to end, with --json and exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import cli.definitions  # noqa: F401  (attaches the commands)
from cli.base import cli as citycase
from engine.audit import verify_all
from tests.engine.designer.helpers import bpmn_files, with_department
from tests.factories import CaseDriver


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, city, *args, code=0):
    result = runner.invoke(citycase, ["--database-url", city.url, "--json", *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if result.stdout.strip() else None


def _write(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return str(tmp_path)


def test_propose_approve_diff_migrate_rollback(runner, city, clock, tmp_path):
    from engine.model import EngineContext

    case = CaseDriver(city, EngineContext(clock))
    case.start(source="supervisor")
    [first] = run(runner, city, "definitions", "list")
    folder = _write(tmp_path, with_department(bpmn_files(), "E0102", "sanitation@330192"))
    proposed = run(runner, city, "definitions", "propose", folder, "--user", "designer1")
    assert proposed["state"] == "proposed"
    new = proposed["id"]
    run(runner, city, "definitions", "approve", str(new), "--user", "designer1", code=1)  # four eyes
    assert run(runner, city, "definitions", "approve", str(new), "--user", "designer2")["state"] == "active"
    diff = run(runner, city, "definitions", "diff", str(first["id"]), str(new))
    assert [(c["file"], c["element_id"]) for c in diff["changes"]] == [("dispatch.dmn", "Rule_dispatch_34")]
    dry = run(runner, city, "migrate", "--to", str(new), "--dry-run")
    assert [(c["case_id"], c["movable"]) for c in dry["cases"]] == [(case.case_id, True)]
    moved = run(runner, city, "migrate", "--to", str(new), "--user", "designer1")
    assert [m["case_id"] for m in moved["moved"]] == [case.case_id]
    with city.session() as s:
        assert verify_all(s)[1] == []
    shown = run(runner, city, "definitions", "show", str(first["id"]))
    assert [e["kind"] for e in shown["history"]] == ["deployed", "retired"]
    assert run(runner, city, "definitions", "rollback", str(first["id"]), "--user", "designer2")["state"] == "active"
    states = {v["id"]: (v["state"], v["open_cases"]) for v in run(runner, city, "definitions", "list")}
    assert states == {first["id"]: ("active", 0), new: ("retired", 1)}


def test_a_malicious_proposal_exits_non_zero_with_element_problems(runner, city, tmp_path):
    files = bpmn_files()
    files["dispatch.dmn"] = files["dispatch.dmn"].replace('"water_supply"', '__import__("os").system("id")', 1)
    out = run(runner, city, "definitions", "propose", _write(tmp_path, files), "--user", "designer1", code=1)
    assert [(p["kind"], p["file"], p["element_id"]) for p in out["problems"]] == [
        ("malicious", "dispatch.dmn", "Out_dispatch_1_0")]
    assert len(run(runner, city, "definitions", "list")) == 1
    run(runner, city, "definitions", "show", "99", code=1)
    run(runner, city, "migrate", "--to", "99", "--dry-run", code=1)


def test_whatif_replays_the_real_reports_of_the_last_days(runner, city, tmp_path):
    """Through the real entry point and the system clock: reports of the last hours are replayed."""
    from datetime import timedelta

    from engine.clock import ManualClock, SystemClock
    from engine.model import EngineContext

    ctx = EngineContext(ManualClock(SystemClock().now() - timedelta(hours=2)))
    for _ in range(2):
        CaseDriver(city, ctx).start(source="supervisor", class_code="E0102")
    folder = _write(tmp_path, with_department(bpmn_files(), "E0102", "sanitation@330192"))
    new = run(runner, city, "definitions", "propose", folder, "--user", "designer1")["id"]
    out = run(runner, city, "definitions", "whatif", "1", str(new), "--days", "1", "--cases-per-day", "5",
              "--replay-days", "1")
    assert out["before"]["cases"] == out["after"]["cases"] == 5
    assert out["replay"]["reports"] == 2
    assert out["replay"]["before"]["cases"] == out["replay"]["after"]["cases"] == 2
    run(runner, city, "definitions", "whatif", "1", str(new), "--replay-days", "99", code=1)  # a clear refusal

"""The operator CLI end to end: upgrade, seed, deploy, simulate, report, tasks, complete, history."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import cli


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def run(runner, url, *args, ok=True):
    result = runner.invoke(cli, ["--database-url", url, *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_simulate_drives_every_case_to_its_end(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run(runner, url, "db", "upgrade")
    seeded = json.loads(run(runner, url, "seed", "demo", "--json").stdout)
    assert seeded["grid_cells"] >= 1000
    run(runner, url, "deploy", "bpmn/")
    summary = json.loads(run(runner, url, "simulate", "--cases", "30", "--seed", "1", "--json").stdout)
    assert summary["cases"] == 30
    assert summary["all_branches_taken"], summary["missing_branches"]
    assert sum(summary["outcomes"].values()) == 30
    assert "open" not in summary["outcomes"]  # --cases drives every case to its end
    # verify and tampering: tests/cli/test_audit.py


def test_report_tasks_complete_history(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli2.db'}"
    run(runner, url, "db", "upgrade")
    city = json.loads(run(runner, url, "seed", "demo", "--json").stdout)
    run(runner, url, "deploy", "bpmn/")
    report = tmp_path / "report.json"
    lon, lat = city["center"]
    report.write_text(json.dumps({"source": "supervisor", "class_code": "E0102", "lon": lon, "lat": lat,
                                  "description": "暴露垃圾"}), encoding="utf-8")
    started = json.loads(run(runner, url, "report", str(report), "--user", "supervisor1", "--json").stdout)
    tasks = json.loads(run(runner, url, "tasks", "--role", "acceptor", "--json").stdout)
    assert [t["task"] for t in tasks] == ["accept"] and tasks[0]["case"] == started["number"]
    bad = run(runner, url, "complete", tasks[0]["task_id"], "--user", "acceptor1", "--data", '{"decision": 1}', ok=False)
    assert bad.exit_code == 1 and "decision" in bad.stderr
    wrong_role = run(runner, url, "complete", tasks[0]["task_id"], "--user", "dispatcher1", "--data",
                     '{"decision": "file"}', ok=False)
    assert wrong_role.exit_code == 1 and "role acceptor" in wrong_role.stderr
    run(runner, url, "complete", tasks[0]["task_id"], "--user", "acceptor1", "--data", '{"decision": "file"}')
    history = json.loads(run(runner, url, "history", started["number"], "--json").stdout)
    assert [e["kind"] for e in history["events"]] == ["start", "complete"]
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"source": "citizen", "class_code": "E0102", "lon": 1.0, "lat": 1.0}))
    refused = run(runner, url, "report", str(outside), ok=False)
    assert refused.exit_code == 1 and "outside every grid cell" in refused.stderr


def test_simulation_is_deterministic(runner, tmp_path):
    outs = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / (name + '.db')}"
        run(runner, url, "db", "upgrade")
        run(runner, url, "seed", "demo")
        run(runner, url, "deploy", "bpmn/")
        outs.append(json.loads(run(runner, url, "simulate", "--days", "2", "--cases-per-day", "15", "--seed", "3",
                                   "--json").stdout))
    assert outs[0] == outs[1]
    assert outs[0]["cases"] > 0


def test_a_locked_database_is_an_error_with_advice(runner, tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import engine.commands

    url = f"sqlite:///{tmp_path / 'locked.db'}"
    run(runner, url, "db", "upgrade")

    def locked(*_args, **_kwargs):
        raise OperationalError("INSERT …", {}, Exception("database is locked"))

    monkeypatch.setattr(engine.commands, "start_case", locked)
    report = tmp_path / "r.json"
    report.write_text('{"source": "citizen"}')
    result = run(runner, url, "report", str(report), ok=False)
    assert result.exit_code == 1 and "run the command again" in result.stderr

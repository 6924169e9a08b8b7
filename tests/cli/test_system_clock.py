"""Cases driven through the CLI on the real system clock replay exactly (issue 9: verify used to
report every such case as broken, since SpiffWorkflow read the moving clock many times)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli import cli


def _run(url: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--database-url", url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_report_and_complete_on_the_system_clock_then_verify(city, tmp_path):
    lon, lat = city.city["center"]
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"source": "citizen", "class_code": "E0102", "lon": lon, "lat": lat,
                                  "description": "x"}))
    started = json.loads(_run(city.url, "report", str(report), "--json"))
    tasks = json.loads(_run(city.url, "tasks", "--case", started["number"], "--json"))
    assert [t["task"] for t in tasks] == ["verify"]
    done = json.loads(_run(city.url, "complete", tasks[0]["task_id"], "--user", "supervisor1",
                           "--data", '{"verdict": "confirmed"}', "--json"))
    assert done["status"] == "open" and done["version"] == started["version"] + 1

    from engine.audit import verify_all

    with city.session() as s:
        assert verify_all(s) == (1, [])

"""``citycase export``: cases reported today with the real clock, each format, and every refusal."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from lxml import etree

from cli import cli
from engine.clock import ManualClock, SystemClock
from engine.model import EngineContext
from tests.conftest import START
from tests.engine.audit.tamper import tamper
from tests.factories import CaseDriver

XES = "{http://www.xes-standard.org/}"


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture
def today_cases(city):
    """Two cases reported now on the system clock, one of them verified."""
    ctx = EngineContext(SystemClock())
    first = CaseDriver(city, ctx)
    first.start()
    first.do("verify", {"verdict": "confirmed"})
    CaseDriver(city, ctx).start(source="supervisor")
    today = SystemClock().now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    return city, today


def run(runner, url, *args):
    return runner.invoke(cli, ["--database-url", url, "export", *args], catch_exceptions=False)


def period(today):
    return ["--from", (today - timedelta(days=1)).isoformat(), "--to", today.isoformat()]


def test_help_states_the_period_rule(runner):
    result = runner.invoke(cli, ["export", "--help"])
    assert result.exit_code == 0
    assert "reported" in result.output and "inclusive" in result.output and "time zone" in result.output


def test_xes_of_todays_cases(runner, today_cases, tmp_path):
    db, today = today_cases
    out = tmp_path / "today.xes"
    result = run(runner, db.url, "xes", *period(today), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "2 cases" in result.stdout and "exported 2/2 cases" in result.stderr
    root = etree.parse(str(out), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    traces = root.findall(f"{XES}trace")
    assert len(traces) == 2
    names = [e.get("value") for t in traces for e in t.iterfind(f"{XES}event/{XES}string[@key='concept:name']")]
    assert names.count("问题上报") == 2


def test_csv_and_ocel_of_todays_cases(runner, today_cases, tmp_path):
    db, today = today_cases
    result = run(runner, db.url, "csv", *period(today), "--output", str(tmp_path / "t.csv"), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8-sig"))))
    assert summary["cases"] == 2 and summary["events"] == len(rows) >= 2
    result = run(runner, db.url, "ocel", *period(today), "--output", str(tmp_path / "t.ocel.json"))
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "t.ocel.json").read_text(encoding="utf-8"))
    assert len(doc["events"]) == len(rows)
    assert sum(o["type"] == "case" for o in doc["objects"]) == 2


def test_tomorrow_has_no_cases_of_today(runner, today_cases, tmp_path):
    db, today = today_cases
    tomorrow = (today + timedelta(days=1)).isoformat()
    result = run(runner, db.url, "csv", "--from", tomorrow, "--to", tomorrow, "--output", str(tmp_path / "t.csv"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t.csv").read_text(encoding="utf-8-sig").strip() == (
        "case,seq,time,activity,actor,role,department,district,class,urgency,kind")


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-13-01", "--to", "2026-12-31"], "--from must be a date"),
    (["--from", "2026-12-01", "--to", "yesterday"], "--to must be a date"),
    (["--from", "2026-12-02", "--to", "2026-12-01"], "ends (2026-12-01) before it starts"),
    (["--from", "2026-12-01", "--to", "2026-12-31", "--district", "999999"], "unknown district code '999999'"),
    (["--from", "2026-12-01", "--to", "2026-12-31", "--class", "E9999"], "unknown class code 'E9999'"),
    (["--from", "2026-12-01", "--to", "2026-12-31", "--department", "nowhere"], "unknown department code"),
])
def test_bad_input_exits_with_a_message_and_writes_no_file(runner, sqlite_city, tmp_path, args, message):
    out = tmp_path / "out.xes"
    result = run(runner, sqlite_city.url, "xes", *args, "--output", str(out))
    assert result.exit_code != 0
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # neither the file nor a partial one


def test_a_failed_export_leaves_an_existing_file_alone(runner, sqlite_city, tmp_path):
    out = tmp_path / "march.csv"
    out.write_text("last month's export")
    result = run(runner, sqlite_city.url, "csv", "--from", "2026-12-01", "--to", "2026-12-31", "--class", "E9999",
                 "--output", str(out))
    assert result.exit_code != 0
    assert out.read_text() == "last month's export"
    assert [p.name for p in tmp_path.iterdir()] == ["march.csv"]


@pytest.mark.parametrize("target", ["missing/out.csv", "a_file/out.csv"])
def test_an_unwritable_output_is_an_error(runner, sqlite_city, tmp_path, target):
    (tmp_path / "a_file").write_text("not a folder")
    result = run(runner, sqlite_city.url, "csv", "--from", "2026-12-01", "--to", "2026-12-31",
                 "--output", str(tmp_path / target))
    assert result.exit_code != 0
    assert "cannot write" in result.stderr
    assert not (tmp_path / target).exists()


def test_an_unknown_format_is_refused(runner, sqlite_city, tmp_path):
    result = run(runner, sqlite_city.url, "pdf", "--from", "2026-12-01", "--to", "2026-12-31",
                 "--output", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1 and "unknown format 'pdf'; use one of xes, csv, ocel" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_history_row_is_named_not_a_traceback(runner, sqlite_city, tmp_path):
    number = CaseDriver(sqlite_city, EngineContext(ManualClock(START))).start().number
    tamper(sqlite_city, "UPDATE event SET at = 'garbage' WHERE case_id = (SELECT id FROM case_record WHERE number = :n)",
           n=number)
    day = START.date().isoformat()
    result = run(runner, sqlite_city.url, "xes", "--from", day, "--to", day, "--output", str(tmp_path / "x.xes"))
    assert result.exit_code == 1
    assert f"case {number} cannot be read" in result.stderr and "citycase verify" in result.stderr
    assert list(tmp_path.iterdir()) == []

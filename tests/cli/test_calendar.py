"""``citycase calendar seed|add|show|set`` end to end, against the holiday packages themselves."""

from __future__ import annotations

import json
from datetime import date, timedelta

import chinese_calendar
import pytest
from click.testing import CliRunner

from cli import cli
from engine.calendar import SOURCE_ADMIN
from engine.models import CalendarDay
from tests.engine.calendar.kit import YEAR, holiday_days, local, make_db, next_cc_workday


@pytest.fixture()
def fresh(tmp_path):
    return make_db(tmp_path / "fresh.db")


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def test_cli_add_seeds_on_the_fly(runner, fresh):
    url, factory = fresh
    national_day = holiday_days(YEAR, "National Day")
    start_day = national_day[0] - timedelta(days=1)
    expected = next_cc_workday(start_day)
    result = runner.invoke(cli, ["--database-url", url, "calendar", "add",
                                 f"{start_day.isoformat()}T10:00", "1", "workday", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload == {
        "start": local(start_day.year, start_day.month, start_day.day, 10).isoformat(),
        "amount": 1.0,
        "unit": "workday",
        "end": local(expected.year, expected.month, expected.day, 10).isoformat(),
    }
    with factory() as session:
        assert session.get(CalendarDay, national_day[0]) is not None  # the year was seeded
    text = runner.invoke(cli, ["--database-url", url, "calendar", "add", f"{start_day.isoformat()}T10:00",
                               "1", "workday"])
    assert text.exit_code == 0
    assert text.stdout.strip() == payload["end"]


@pytest.mark.parametrize("args", [["2026-09-30T10:00", "1", "fortnight"], ["2026-09-30T10:00", "-1", "workday"],
                                  ["2026-09-30T10:00", "x", "workday"], ["yesterday", "1", "workday"]])
def test_cli_add_bad_input(runner, fresh, args):
    url, _factory = fresh
    result = runner.invoke(cli, ["--database-url", url, "calendar", "add", *args])
    assert result.exit_code != 0
    assert "error:" in result.stderr


def test_cli_seed_set_show(runner, fresh):
    url, factory = fresh
    result = runner.invoke(cli, ["--database-url", url, "calendar", "seed", "--from-year", str(YEAR),
                                 "--to-year", str(YEAR)])
    assert result.exit_code == 0, result.output
    assert f"{YEAR}:" in result.stdout
    sunday = next(d for d in (date(YEAR, 3, 1) + timedelta(i) for i in range(60))
                  if d.weekday() == 6 and not chinese_calendar.is_workday(d))
    result = runner.invoke(cli, ["--database-url", url, "calendar", "set", sunday.isoformat(), "--working",
                                 "--windows", "08:30-12:00", "--note", "创卫检查"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--database-url", url, "calendar", "show", str(YEAR), "--json"])
    assert result.exit_code == 0, result.output
    days = {d["day"]: d for d in json.loads(result.stdout)["days"]}
    assert days[sunday.isoformat()]["source"] == SOURCE_ADMIN
    assert days[sunday.isoformat()]["note"] == "创卫检查"
    for d in holiday_days(YEAR, "National Day"):
        if d.weekday() < 5:
            assert days[d.isoformat()]["is_working"] is False
    make_up = [d for d in (date(YEAR, 1, 1) + timedelta(i) for i in range(365))
               if d.weekday() >= 5 and chinese_calendar.is_workday(d)]
    assert all(days[d.isoformat()]["is_working"] for d in make_up)
    # neither --working nor --off, and a bad day, fail with a message
    for args in (["set", sunday.isoformat()], ["set", "2026-02-30", "--off"],
                 ["set", sunday.isoformat(), "--off", "--windows", "08:30-12:00"]):
        bad = runner.invoke(cli, ["--database-url", url, "calendar", *args])
        assert bad.exit_code != 0 and "error:" in bad.stderr
    with factory() as session:
        assert session.get(CalendarDay, sunday).is_working is True

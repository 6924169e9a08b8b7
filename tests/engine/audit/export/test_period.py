"""Which cases an export covers: report dates inclusive, in the city's time zone; bad filters refused."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from engine.audit.export import ExportFilters, file_name, write_export
from engine.clock import ManualClock
from engine.errors import ValidationError
from engine.model import EngineContext
from tests.factories import CaseDriver

# Local (Asia/Shanghai, UTC+8) report times around the edges of 2026-11-30.
REPORTS = {
    "before": datetime(2026, 11, 29, 15, 59, tzinfo=UTC),  # 11-29 23:59 local
    "first_minute": datetime(2026, 11, 29, 16, 0, tzinfo=UTC),  # 11-30 00:00 local (UTC date 11-29)
    "last_evening": datetime(2026, 11, 30, 15, 30, tzinfo=UTC),  # 11-30 23:30 local
    "next_day": datetime(2026, 11, 30, 16, 0, tzinfo=UTC),  # 12-01 00:00 local (UTC date 11-30)
}


@pytest.fixture
def edge_cases(city):
    numbers = {}
    for name, at in REPORTS.items():
        driver = CaseDriver(city, EngineContext(ManualClock(at)))
        numbers[name] = driver.start().number
    return city, numbers


def exported_cases(db, filters: ExportFilters) -> set[str]:
    out = io.BytesIO()
    with db.session() as s:
        write_export(s, "csv", filters, out)
    return {row["case"] for row in csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig")))}


def test_dates_are_inclusive_local_days(edge_cases):
    db, numbers = edge_cases
    day = date(2026, 11, 30)
    assert exported_cases(db, ExportFilters(day, day)) == {numbers["first_minute"], numbers["last_evening"]}
    assert exported_cases(db, ExportFilters(date(2026, 11, 29), day)) == {
        numbers["before"], numbers["first_minute"], numbers["last_evening"]}
    assert exported_cases(db, ExportFilters(date(2026, 12, 1), date(2026, 12, 1))) == {numbers["next_day"]}


def test_the_period_follows_the_configured_time_zone(edge_cases):
    db, numbers = edge_cases
    day = date(2026, 11, 30)
    # The same dates in UTC: the 23:30 Shanghai report is 15:30 UTC, the next midnight 16:00 UTC.
    assert exported_cases(db, ExportFilters(day, day, timezone="UTC")) == {numbers["last_evening"],
                                                                           numbers["next_day"]}


@pytest.mark.parametrize("fmt", ["xes", "csv", "ocel"])
@pytest.mark.parametrize("filters, field", [
    (ExportFilters(date(2026, 12, 1), date(2026, 11, 30)), "to"),
    (ExportFilters(date(2026, 11, 1), date(2026, 11, 30), district="999999"), "district"),
    (ExportFilters(date(2026, 11, 1), date(2026, 11, 30), class_code="E9999"), "class"),
    (ExportFilters(date(2026, 11, 1), date(2026, 11, 30), department="no_such_department"), "department"),
    (ExportFilters(date(2026, 11, 1), date(2026, 11, 30), timezone="Mars/Olympus"), "timezone"),
])
def test_bad_filters_are_refused_before_anything_is_written(sqlite_city, fmt, filters, field):
    out = io.BytesIO()
    with sqlite_city.session() as s, pytest.raises(ValidationError) as err:
        write_export(s, fmt, filters, out)
    assert field in err.value.fields
    assert out.getvalue() == b""


def test_an_unknown_format_is_refused(sqlite_city):
    out = io.BytesIO()
    with sqlite_city.session() as s, pytest.raises(ValidationError, match="unknown export format"):
        write_export(s, "pdf", ExportFilters(date(2026, 11, 1), date(2026, 11, 30)), out)
    assert out.getvalue() == b""


def test_download_names_say_what_the_file_holds():
    march = ExportFilters(date(2026, 3, 1), date(2026, 3, 31), department="sanitation@330191")
    assert file_name("xes", march) == "citycase_2026-03-01_2026-03-31_sanitation-330191.xes"
    assert file_name("ocel", ExportFilters(date(2026, 3, 1), date(2026, 3, 1))) == "citycase_2026-03-01_2026-03-01.json"

"""start_case: what the start event records (the report, a commitment to the reporter, never the
reporter's own data) and how a bad report is refused."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from sqlalchemy import func, select

from engine.commands import start_case
from engine.commands.report import MESSAGES, check_report
from engine.errors import ValidationError
from engine.model import Actor, EngineContext
from engine.models import Case, Event, GridCell
from tests.factories import report


def _start_event(db, case_id: int) -> dict:
    with db.session() as s:
        return orjson.loads(s.scalar(select(Event.data).where(Event.case_id == case_id, Event.seq == 1)))


def test_the_start_event_holds_the_report_and_a_reporter_commitment(city, clock):
    data = report(city.city, reporter="张三 13800000000", address="演示路 9 号", urgency="urgent")
    with city.session() as s:
        result = start_case(s, EngineContext(clock), data, Actor("hotline1", "acceptor"))
    with city.session() as s:
        case = s.get(Case, result.case_id)
    event = _start_event(city, result.case_id)
    assert {"initial", "report", "reporter_commitment"} <= set(event)  # (+ "services" it called)
    assert event["report"] == {
        "source": "citizen", "class_code": "E0102", "urgency": "urgent", "lon": case.lon, "lat": case.lat,
        "address": "演示路 9 号", "description": data["description"], "component_id": None,
        "grid_code": case.grid_code, "community_code": case.community_code, "street_code": case.street_code,
        "district_code": case.district_code, "photos": []}
    assert case.reporter == "张三 13800000000" and len(case.reporter_salt) == 32
    expected = hashlib.sha256(bytes.fromhex(case.reporter_salt) + case.reporter.encode()).hexdigest()
    assert event["reporter_commitment"] == expected
    with city.session() as s:
        raw = s.scalar(select(Event.data).where(Event.case_id == result.case_id, Event.seq == 1))
    assert "张三" not in raw and "13800000000" not in raw  # personal data stays out of the history
    assert event["initial"]["class_code"] == "E0102" and event["initial"]["urgency"] == "urgent"


def test_salts_differ_between_cases_of_the_same_reporter(sqlite_city, clock):
    commitments = set()
    for _ in range(2):
        with sqlite_city.session() as s:
            result = start_case(s, EngineContext(clock), report(sqlite_city.city, reporter="李四"), Actor("c", "citizen"))
        commitments.add(_start_event(sqlite_city, result.case_id)["reporter_commitment"])
    assert len(commitments) == 2


@pytest.mark.parametrize(("bad", "field"), [
    ({"source": "pigeon"}, "source"),
    ({"urgency": "whenever"}, "urgency"),
    ({"description": "长" * 2001}, "description"),
    ({"reporter": 42}, "reporter"),
    ({"photos": "abc"}, "photos"),
    ({"colour": "red"}, "colour"),
    ({"class_code": "E9999"}, "class_code"),
    ({"lon": None}, "lon"),
])
def test_bad_reports_name_the_field_with_a_translatable_phrase(sqlite_city, bad, field):
    with sqlite_city.session() as s, pytest.raises(ValidationError) as err:
        check_report(s, report(sqlite_city.city, **bad))
    assert field in err.value.fields and err.value.fields[field] in MESSAGES
    with sqlite_city.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_a_report_that_is_not_an_object_is_refused(sqlite_city):
    with sqlite_city.session() as s, pytest.raises(ValidationError, match="JSON object"):
        check_report(s, ["not", "a", "report"])


def test_a_supervisor_reports_only_in_their_own_district(city, clock):
    """Issue 10: decided, not accidental — supervisors patrol and report in their district."""
    with city.session() as s:
        cell = s.scalars(select(GridCell).where(GridCell.district_code == "330192").limit(1)).one()
        lon, lat = (cell.min_lon + cell.max_lon) / 2, (cell.min_lat + cell.max_lat) / 2
        before = s.scalar(select(func.count()).select_from(Case))
    elsewhere = report(city.city, source="supervisor", lon=lon, lat=lat)
    with pytest.raises(ValidationError) as err, city.session() as s:
        start_case(s, EngineContext(clock), elsewhere, Actor("supervisor1", "supervisor", None, "330191"))
    assert err.value.fields == {"lon": "outside your district"} and "330192" in str(err.value)
    with city.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == before
        started = start_case(s, EngineContext(clock), elsewhere, Actor("supervisor3", "supervisor", None, "330192"))
    assert started.number

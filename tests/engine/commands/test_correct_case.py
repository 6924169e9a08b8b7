"""correct_case: the acceptor corrects class, urgency and place with a reason; the row, the open
task rows and the workflow follow (dispatch suggests the corrected class's department), the
history records it as a correction, and ``citycase verify`` still finds the case consistent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.audit import verify_cases
from engine.commands import correct_case
from engine.errors import Forbidden, ValidationError
from engine.model import EngineContext
from engine.models import Case, Event, TaskRow
from engine.queries.process_data import task_data
from tests.factories import ACCEPTOR, DISPATCHER, CaseDriver


def _at_accept(db, clock) -> CaseDriver:
    driver = CaseDriver(db, EngineContext(clock))
    driver.start()  # E0102 exposed rubbish: sanitation
    driver.do("verify", {"verdict": "confirmed"})
    return driver


def test_corrected_class_is_dispatched_and_verify_passes(city, clock):
    driver = _at_accept(city, clock)
    with city.session() as s:
        correct_case(s, EngineContext(clock), driver.case_id, ACCEPTOR,
                     {"class_code": "C0102", "urgency": "urgent"}, "照片显示为雨水井盖，非垃圾")
        s.commit()
    case = driver.case()
    assert (case.class_code, case.urgency) == ("C0102", "urgent")
    with city.session() as s:
        assert {t.class_code for t in s.scalars(select(TaskRow).where(TaskRow.case_id == driver.case_id))} == {"C0102"}
        event = s.scalars(select(Event).where(Event.case_id == driver.case_id).order_by(Event.seq.desc())).first()
        assert event.kind == "correction" and "雨水井盖" in event.data and "E0102" in event.data
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    with city.session() as s:
        dispatch = s.scalars(select(TaskRow).where(TaskRow.case_id == driver.case_id,
                                                   TaskRow.spec_id == "dispatch")).one()
        assert str(task_data(s, dispatch.id).get("suggested_department", "")).startswith("drainage")
        report = verify_cases(s, [case.number])
    assert report.ok, report.problems


def test_a_new_place_moves_the_case_to_its_grid(city, clock):
    driver = _at_accept(city, clock)
    bbox = city.city["bbox"]
    lon, lat = bbox[0] + 0.001, bbox[1] + 0.001
    with city.session() as s:
        correct_case(s, EngineContext(clock), driver.case_id, ACCEPTOR, {"lon": lon, "lat": lat}, "位置点错了")
        s.commit()
    case = driver.case()
    assert (round(case.lon, 6), round(case.lat, 6)) == (round(lon, 6), round(lat, 6))
    with city.session() as s:
        assert verify_cases(s, [case.number]).ok


def test_who_and_what_may_be_corrected(city, clock):
    driver = _at_accept(city, clock)
    with city.session() as s:
        with pytest.raises(Forbidden):
            correct_case(s, EngineContext(clock), driver.case_id, DISPATCHER, {"urgency": "urgent"}, "理由")
        with pytest.raises(ValidationError):
            correct_case(s, EngineContext(clock), driver.case_id, ACCEPTOR, {"urgency": "urgent"}, "")
        with pytest.raises(ValidationError):
            correct_case(s, EngineContext(clock), driver.case_id, ACCEPTOR, {"class_code": "E9999"}, "理由")
        with pytest.raises(ValidationError):
            correct_case(s, EngineContext(clock), driver.case_id, ACCEPTOR, {"class_code": "E0102"}, "理由")
        s.rollback()
    assert driver.case().class_code == "E0102"
    with city.session() as s:
        assert s.scalar(select(Case.version).where(Case.id == driver.case_id)) == driver.case().version

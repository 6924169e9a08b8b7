"""decision_context: an approval or check task gets the request it decides and the earlier rounds."""

from __future__ import annotations

from engine.model import EngineContext
from engine.queries import load_case
from engine.queries.decisions import decision_context
from tests.factories import DISPATCHER, SUPERVISOR, CaseDriver


def _dispatched(city, clock) -> CaseDriver:
    driver = CaseDriver(city, EngineContext(clock))
    driver.start()
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": "sanitation@330191"})
    return driver


def test_extension_approval_sees_the_amount_asked_for(city, clock):
    driver = _dispatched(city, clock)
    driver.do("handle", {"outcome": "extend", "result": "需要采购配件", "extension_amount": 3,
                         "extension_unit": "workday"})
    with city.session() as s:
        context = decision_context(s, DISPATCHER, load_case(s, driver.case_id), "approve_extension")
    assert context is not None and context.request is not None
    assert context.request.step == "handle" and context.request.round == 1
    assert context.request.form["extension_amount"] == 3 and context.request.form["extension_unit"] == "workday"
    assert context.request.form["result"] == "需要采购配件"
    assert context.earlier == []


def test_check_after_a_failed_check_sees_the_new_work_and_the_earlier_round(city, clock):
    driver = _dispatched(city, clock)
    driver.do("handle", {"outcome": "done", "result": "第一次处置"})
    driver.do("check", {"verdict": "failed", "note": "垃圾仍在"})
    driver.do("handle", {"outcome": "done", "result": "第二次处置"})
    supervisor = SUPERVISOR
    with city.session() as s:
        context = decision_context(s, supervisor, load_case(s, driver.case_id), "check")
    assert context is not None and context.request is not None
    assert context.request.form["result"] == "第二次处置" and context.request.round == 2
    assert [(e.step, e.round) for e in context.earlier] == [("handle", 1), ("check", 1)]
    assert context.earlier[1].form["note"] == "垃圾仍在"


def test_tasks_that_decide_nothing_earlier_have_no_context(city, clock):
    driver = _dispatched(city, clock)
    with city.session() as s:
        assert decision_context(s, DISPATCHER, load_case(s, driver.case_id), "dispatch") is None

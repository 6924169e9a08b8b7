"""A case walked for the replay tests: a return and a rework, with a claim after the handling warning."""

from __future__ import annotations

from datetime import timedelta

from engine.commands import claim
from engine.model import EngineContext
from tests.factories import CaseDriver, handler_of, task_of

FIRST_DEPT = "sanitation@330191"  # dispatch.dmn's answer for E0102 in district 330191
SECOND_DEPT = "municipal"
# seq of each event of walk_return_and_rework
STEPS = {"start": 1, "verify": 2, "accept": 3, "file": 4, "dispatch": 5, "return": 6, "approve_return": 7,
         "redispatch": 8, "claim_late": 9, "handle": 10, "check_failed": 11, "rework": 12, "check": 13, "close": 14}


def walk_return_and_rework(db, clock) -> CaseDriver:
    """Report → … → handle returned → approved → re-dispatched → claimed after its warning →
    handled → check failed → reworked → checked → closed (14 events)."""
    d = CaseDriver(db, EngineContext(clock))
    d.start()
    d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": FIRST_DEPT})
    d.do("handle", {"outcome": "return", "result": "不属于本单位"})
    d.do("approve_return", {"decision": "approve"})
    d.do("dispatch", {"department": SECOND_DEPT})
    clock.advance(timedelta(hours=4, minutes=50))  # past the handle warning (80 %), before it is due
    with db.session() as s:
        claim(s, EngineContext(clock), task_of(s, d.case_id, "handle").id, handler_of(SECOND_DEPT))
    d.do("handle", {"outcome": "done", "result": "已修复"}, handler_of(SECOND_DEPT))
    d.do("check", {"verdict": "failed", "note": "仍有问题"})
    d.do("handle", {"outcome": "done", "result": "再次修复"}, handler_of(SECOND_DEPT))
    d.do("check", {"verdict": "passed"})
    d.do("close", {"note": "结案"})
    return d

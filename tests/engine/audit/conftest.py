from __future__ import annotations

import pytest

from engine.model import EngineContext
from tests.factories import CaseDriver

DEPT = "sanitation@330191"  # dispatch.dmn's answer for E0102 in district 330191


def walk(db, ctx: EngineContext, *, close: bool = False, **report) -> CaseDriver:
    """A case taken to its handling step (or closed), with 6–8 events of history."""
    d = CaseDriver(db, ctx)
    d.start(**report)
    if "verify" in d.tasks():
        d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": DEPT})
    if close:
        d.do("handle", {"outcome": "done", "result": "已清理"})
        d.do("check", {"verdict": "passed"})
        d.do("close", {"note": "结案"})
    return d


@pytest.fixture
def ctx(clock):
    return EngineContext(clock)


@pytest.fixture
def three(city, ctx):
    """Three cases on the city: two open at handling, one closed."""
    drivers = [walk(city, ctx), walk(city, ctx, close=True), walk(city, ctx)]
    return [d.case().number for d in drivers]

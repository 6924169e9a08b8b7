"""What merged, reopened and called-back cases count for: a merged duplicate is a duplicate (not
filed, so not a miss, and never closed); a reopen is counted for the region and the department;
the callback's answers give the callback satisfaction rate."""

from __future__ import annotations

from datetime import timedelta

from engine.commands import merge_case, reopen_case
from engine.evaluation import TOTAL, Kind, Metric, Rate, evaluate
from engine.evaluation.compute import Period
from engine.model import Actor, EngineContext
from tests.factories import ACCEPTOR, CaseDriver

DEPT = "sanitation@330191"


def _closed(d: CaseDriver) -> None:
    d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": DEPT})
    d.do("handle", {"outcome": "done", "result": "已清理"})
    d.do("check", {"verdict": "passed"})
    d.do("close", {"note": "结案"})


def test_duplicates_reopens_and_callbacks_are_counted(city, clock):
    ctx = EngineContext(clock)
    start = clock.now()
    original, duplicate, filed_duplicate = CaseDriver(city, ctx), CaseDriver(city, ctx), CaseDriver(city, ctx)
    original.start()
    duplicate.start()
    filed_duplicate.start()
    filed_duplicate.do("verify", {"verdict": "confirmed"})
    filed_duplicate.do("accept", {"decision": "file"})
    filed_duplicate.do("file", {"decision": "file"})  # filed before anyone saw it was a duplicate
    with city.session() as s:
        merge_case(s, ctx, duplicate.case_id, original.case().number, ACCEPTOR, "同一处")
        merge_case(s, ctx, filed_duplicate.case_id, original.case().number, ACCEPTOR, "同一处")
        s.commit()
    _closed(original)
    original.do("Followup_callback", {"satisfaction": "unsatisfied", "channel": "phone", "reopen": True})
    original.do("dispatch", {"department": DEPT})
    original.do("handle", {"outcome": "done", "result": "再次清理"})
    original.do("check", {"verdict": "passed"})
    original.do("close", {"note": "结案"})
    original.do("Followup_callback", {"satisfaction": "satisfied", "channel": "phone"})
    other = CaseDriver(city, ctx)
    other.start()
    _closed(other)
    other.do("Followup_callback", {"satisfaction": "basically", "channel": "phone"})
    clock.advance(timedelta(days=1))
    with city.session() as s:
        reopen_case(s, ctx, other.case_id, Actor("reporter", "citizen"), "又有垃圾了")
        s.commit()
    clock.advance(timedelta(hours=1))
    with city.session() as s:
        result = evaluate(s, Period(start - timedelta(hours=1), clock.now(), "test"), narrow=False)
    region = result.kinds[Kind.DISTRICT].total.counts
    assert region.get(Metric.REPORTED) == 4
    assert region.get(Metric.DUPLICATE) == 2
    assert region.get(Metric.FILED) == 2 and region.get(Metric.PUBLIC_FILED) == 2  # the duplicates: neither
    assert region.get(Metric.CLOSED) == 2  # the two originals, not the duplicates
    assert region.get(Metric.REOPENED) == 2
    assert region.get(Metric.CALLED_BACK) == 2
    assert region.get(Metric.CALLBACK_SATISFIED) == 2  # the 'basically' one and the second round's
    dept = next(u for u in result.kinds[Kind.DEPARTMENT].units if u.key == DEPT)
    assert dept.counts.get(Metric.REOPENED) == 2
    assert result.kinds[Kind.DISTRICT].total.rates[Rate.CALLBACK_SATISFACTION] == 100.0
    assert TOTAL not in {u.key for u in result.kinds[Kind.DEPARTMENT].units}


def test_a_reopened_case_left_undone_is_overdue_in_a_later_period(city, clock):
    ctx = EngineContext(clock)
    d = CaseDriver(city, ctx)
    d.start()
    _closed(d)
    d.do("Followup_callback", {"satisfaction": "unsatisfied", "channel": "phone", "reopen": True})
    d.do("dispatch", {"department": DEPT})  # the new round, then nobody handles it
    quiet_from = clock.now() + timedelta(days=1)
    quiet = Period(quiet_from, quiet_from + timedelta(days=30), "quiet")  # no event of the case in it
    with city.session() as s:
        narrow = evaluate(s, quiet)
        full = evaluate(s, quiet, narrow=False)
    assert narrow.kinds[Kind.DEPARTMENT].total.counts.get(Metric.OVERDUE) == 1
    assert narrow.kinds[Kind.DISTRICT].total.counts == full.kinds[Kind.DISTRICT].total.counts

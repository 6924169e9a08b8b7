"""After closing and before filing: the callback (回访), reopening within the window and merging a
duplicate — each through the engine commands, with ``citycase verify`` reproducing the case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.audit import verify_cases
from engine.commands import merge_case, reopen_case
from engine.commands.followup import REOPEN_DAYS
from engine.errors import Conflict, Forbidden, ValidationError
from engine.model import Actor, EngineContext
from engine.models import Event
from tests.factories import ACCEPTOR, DISPATCHER, SHIFT_LEADER, CaseDriver

DEPT = "sanitation@330191"
REPORTER = Actor("reporter", "citizen")


def _closed(city, clock, **report) -> CaseDriver:
    d = CaseDriver(city, EngineContext(clock))
    d.start(**report)
    if report.get("source", "citizen") != "supervisor":
        d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": DEPT})
    _round(d)
    return d


def _round(d: CaseDriver) -> None:
    d.do("handle", {"outcome": "done", "result": "已清理"})
    d.do("check", {"verdict": "passed"})
    d.do("close", {"note": "结案"})


def _verified(city, *numbers: str) -> None:
    with city.session() as s:
        report = verify_cases(s, list(numbers))
    assert report.ok, report.problems


def _kinds(city, case_id: int) -> list[str]:
    with city.session() as s:
        return list(s.scalars(select(Event.kind).where(Event.case_id == case_id).order_by(Event.seq)))


def test_citizen_case_is_closed_and_called_back(city, clock):
    d = _closed(city, clock)
    closed_at = d.case().closed_at
    assert (d.case().status, d.case().outcome) == ("closed", "closed")
    assert d.tasks() == ["Followup_callback"]  # the acceptor's 回访
    clock.advance(timedelta(hours=2))
    d.do("Followup_callback", {"satisfaction": "basically", "channel": "phone", "note": "已打电话"})
    case = d.case()
    assert (case.status, case.outcome, case.closed_at) == ("closed", "closed", closed_at)
    assert d.tasks() == []
    _verified(city, case.number)


def test_unsatisfied_callback_reopens_a_new_round(city, clock):
    d = _closed(city, clock)
    d.do("Followup_callback", {"satisfaction": "unsatisfied", "channel": "phone", "reopen": True})
    case = d.case()
    assert (case.status, case.outcome, case.closed_at) == ("open", None, None)
    assert d.tasks() == ["dispatch"]
    d.do("dispatch", {"department": DEPT})
    _round(d)
    assert d.case().status == "closed" and d.tasks() == ["Followup_callback"]
    d.do("Followup_callback", {"satisfaction": "satisfied", "channel": "phone"})
    assert d.tasks() == []
    _verified(city, case.number)


def test_reporter_reopens_after_the_callback_within_the_window(city, clock):
    d = _closed(city, clock)
    d.do("Followup_callback", {"satisfaction": "satisfied", "channel": "phone"})
    clock.advance(timedelta(days=2))
    with city.session() as s:
        reopen_case(s, EngineContext(clock), d.case_id, REPORTER, "井盖还是坏的")
        s.commit()
    assert d.case().status == "open" and d.tasks() == ["dispatch"]
    assert _kinds(city, d.case_id)[-1] == "reopen"
    _verified(city, d.case().number)
    d.do("dispatch", {"department": DEPT})
    _round(d)
    assert d.case().status == "closed"
    _verified(city, d.case().number)


def test_reopen_while_the_callback_is_open_answers_it(city, clock):
    d = _closed(city, clock)
    with city.session() as s:
        reopen_case(s, EngineContext(clock), d.case_id, REPORTER, "没有修好")
        s.commit()
    assert d.tasks() == ["dispatch"]
    with city.session() as s:
        last = s.scalars(select(Event).where(Event.case_id == d.case_id).order_by(Event.seq.desc())).first()
        assert last.task_spec == "Followup_callback" and '"unsatisfied"' in last.data
    _verified(city, d.case().number)


def test_center_reopens_a_supervisor_case_without_callback(city, clock):
    d = _closed(city, clock, source="supervisor")
    assert d.tasks() == []
    with city.session() as s:
        reopen_case(s, EngineContext(clock), d.case_id, SHIFT_LEADER, "复查发现仍未解决", channel="phone")
        s.commit()
    assert d.tasks() == ["dispatch"]
    _verified(city, d.case().number)


def test_what_cannot_be_reopened(city, clock):
    d = _closed(city, clock, source="supervisor")
    with city.session() as s:
        with pytest.raises(Forbidden):
            reopen_case(s, EngineContext(clock), d.case_id, DISPATCHER, "理由")
        with pytest.raises(ValidationError):
            reopen_case(s, EngineContext(clock), d.case_id, ACCEPTOR, " ")
        s.rollback()
    clock.advance(timedelta(days=REOPEN_DAYS, minutes=1))
    with city.session() as s:
        with pytest.raises(Conflict, match="reopen window"):
            reopen_case(s, EngineContext(clock), d.case_id, ACCEPTOR, "理由")
        s.rollback()
    open_case = CaseDriver(city, EngineContext(clock))
    open_case.start()
    with city.session() as s:
        with pytest.raises(Conflict, match="not closed"):
            reopen_case(s, EngineContext(clock), open_case.case_id, ACCEPTOR, "理由")
        s.rollback()
    assert d.case().status == "closed" and open_case.tasks() == ["verify"]


def test_duplicate_is_merged_into_its_original(city, clock):
    original = CaseDriver(city, EngineContext(clock))
    original.start()
    original.do("verify", {"verdict": "confirmed"})
    duplicate = CaseDriver(city, EngineContext(clock))
    duplicate.start(description="同一处垃圾")
    with city.session() as s:
        merge_case(s, EngineContext(clock), duplicate.case_id, original.case().number, ACCEPTOR, "同一处暴露垃圾")
        s.commit()
    dup = duplicate.case()
    assert (dup.status, dup.outcome) == ("merged", "merged") and dup.closed_at is not None
    assert duplicate.tasks() == []
    assert original.tasks() == ["accept"] and original.case().status == "open"
    with city.session() as s:
        merge = s.scalars(select(Event).where(Event.case_id == dup.id).order_by(Event.seq.desc())).first()
        linked = s.scalars(select(Event).where(Event.case_id == original.case_id).order_by(Event.seq.desc())).first()
    assert merge.kind == "merge" and original.case().number in merge.data
    assert linked.kind == "duplicate" and dup.number in linked.data
    _verified(city, dup.number, original.case().number)


def test_what_cannot_be_merged(city, clock):
    ctx = EngineContext(clock)
    first, second = CaseDriver(city, ctx), CaseDriver(city, ctx)
    first.start()
    second.start(class_code="C0101")  # a manhole cover: another kind of problem
    rubbish_closed = _closed(city, clock)
    n_first = first.case().number
    with city.session() as s:
        for actor, dup, into, error in (
                (DISPATCHER, first.case_id, rubbish_closed.case().number, Forbidden),
                (ACCEPTOR, first.case_id, n_first, ValidationError),  # into itself
                (ACCEPTOR, first.case_id, "NOPE", ValidationError),
                (ACCEPTOR, first.case_id, second.case().number, ValidationError),  # other kind
                (ACCEPTOR, first.case_id, rubbish_closed.case().number, ValidationError),  # closed
                (ACCEPTOR, rubbish_closed.case_id, n_first, Conflict)):  # the duplicate is closed
            with pytest.raises(error):
                merge_case(s, ctx, dup, into, actor, "重复")
            s.rollback()
    assert first.case().status == "open" and first.tasks() == ["verify"]
    dup_of_merged = CaseDriver(city, ctx)
    dup_of_merged.start()
    with city.session() as s:
        merge_case(s, ctx, dup_of_merged.case_id, n_first, ACCEPTOR, "重复")
        s.commit()
    third = CaseDriver(city, ctx)
    third.start()
    with city.session() as s:
        with pytest.raises(ValidationError):  # into a merged case
            merge_case(s, ctx, third.case_id, dup_of_merged.case().number, ACCEPTOR, "重复")
        s.rollback()

"""The command frame: a failed command writes nothing and leaves no half-applied live workflow;
annotations (claim, release) move the chain head without invalidating the live workflow."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.commands import LIVE, claim, release
from engine.errors import ValidationError
from engine.model import EngineContext
from engine.models import Case, Event
from tests.factories import SUPERVISOR, CaseDriver, task_of


def _verify(db):
    from engine.audit import verify_all

    with db.session() as s:
        return verify_all(s)


def _key(db, case_id: int):
    return (str(db.factory.kw["bind"].url), case_id)


def test_a_failed_command_writes_nothing_and_drops_the_live_workflow(city, clock):
    d = CaseDriver(city, EngineContext(clock))
    d.start()
    with city.session() as s:
        case = s.get(Case, d.case_id)
        before = (s.scalar(select(func.count()).select_from(Event)), case.version, case.last_hash)
    with pytest.raises(ValidationError):
        d.do("verify", {"verdict": "maybe"})
    assert LIVE.take(_key(city, d.case_id), before[1], before[2]) is None  # nothing kept for this case
    with city.session() as s:
        case = s.get(Case, d.case_id)
        assert (s.scalar(select(func.count()).select_from(Event)), case.version, case.last_hash) == before
    d.do("verify", {"verdict": "confirmed"})  # the next command loads the stored state
    assert d.tasks() == ["accept"]
    assert _verify(city) == (1, [])


def test_claim_and_release_move_the_head_and_keep_the_live_workflow(sqlite_city, clock):
    d = CaseDriver(sqlite_city, EngineContext(clock))
    d.start()
    ctx = EngineContext(clock)
    with sqlite_city.session() as s:
        verify = task_of(s, d.case_id, "verify").id
    with sqlite_city.session() as s:
        claim(s, ctx, verify, SUPERVISOR)
    with sqlite_city.session() as s:
        release(s, ctx, verify, SUPERVISOR)
    with sqlite_city.session() as s:
        case = s.get(Case, d.case_id)
        kinds = s.scalars(select(Event.kind).where(Event.case_id == d.case_id).order_by(Event.seq)).all()
    assert kinds == ["start", "claim", "release"] and case.last_seq == 3
    live = LIVE.take(_key(sqlite_city, d.case_id), case.version, case.last_hash)
    assert live is not None  # still valid: the workflow did not change, only the chain head moved
    LIVE.put(_key(sqlite_city, d.case_id), live)
    d.do("verify", {"verdict": "confirmed"})
    assert _verify(sqlite_city) == (1, [])

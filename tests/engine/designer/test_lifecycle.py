"""Versions: proposed by one designer, approved by another, rolled back; new cases start on the active one."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from engine.designer import lifecycle
from engine.errors import Conflict, Forbidden
from engine.model import Actor, EngineContext
from engine.models import Case, DefinitionEvent
from tests.engine.designer.helpers import DESIGNER1, DESIGNER2, bpmn_files, with_department
from tests.factories import CaseDriver


def _propose(city, clock, files, actor=DESIGNER1) -> int:
    with city.session() as s:
        return lifecycle.propose(s, files, actor, clock.now()).id


def test_four_eyes_then_new_cases_follow_the_approved_version(city, clock):
    with city.session() as s:
        first = lifecycle.active_id(s)
    new_id = _propose(city, clock, with_department(bpmn_files(), "E0102", "sanitation@330192"))
    ctx = EngineContext(clock)
    driver = CaseDriver(city, ctx)
    driver.start()
    with city.session() as s:
        assert s.get(Case, driver.case_id).definition_id == first  # a proposal is not used yet
    with pytest.raises(Forbidden), city.session() as s:
        lifecycle.approve(s, new_id, DESIGNER1, clock.now())  # the proposer cannot approve
    with city.session() as s:
        lifecycle.approve(s, new_id, DESIGNER2, clock.now())
    later = CaseDriver(city, ctx)
    later.start()
    with city.session() as s:
        assert s.get(Case, later.case_id).definition_id == new_id
        states = {v.id: v.state for v in lifecycle.list_versions(s)}
        assert states == {first: "retired", new_id: "active"}
        info = lifecycle.version_info(s, first)
        assert (info.open_cases, info.closed_cases) == (1, 0)


def test_rollback_reactivates_an_earlier_version_and_history_chains(city, clock):
    with city.session() as s:
        first = lifecycle.active_id(s)
    new_id = _propose(city, clock, with_department(bpmn_files(), "E0102", "sanitation@330192"))
    with city.session() as s:
        lifecycle.approve(s, new_id, DESIGNER2, clock.now())
    with pytest.raises(Conflict), city.session() as s:
        lifecycle.rollback(s, new_id, DESIGNER1, clock.now())  # already active
    with city.session() as s:
        lifecycle.rollback(s, first, DESIGNER1, clock.now())
    with city.session() as s:
        assert lifecycle.active_id(s) == first
        kinds = [(e.kind, e.definition_id) for e in lifecycle.history(s)]
        assert kinds[-5:] == [("proposed", new_id), ("retired", first), ("approved", new_id),
                              ("retired", new_id), ("rolled_back", first)]
        assert lifecycle.verify_history(s) == []
    rewrite = DefinitionEvent.__table__.update().where(DefinitionEvent.kind == "approved").values(actor="designer1")
    with pytest.raises(DatabaseError, match="append-only"), city.session() as s:
        s.execute(rewrite)  # the database refuses to rewrite the history …
    with city.session() as s:
        for statement in _DROP_TRIGGERS[city.backend]:
            s.execute(text(statement))  # … unless someone with the rights drops its triggers,
        s.execute(rewrite)
    with city.session() as s:
        assert lifecycle.verify_history(s)  # and then the hash chain shows the rewritten approver


_DROP_TRIGGERS = {
    "sqlite": ["DROP TRIGGER definition_event_no_update"],
    "postgres": ["DROP TRIGGER definition_event_append_only ON definition_event"],
}


def test_only_designers_propose_and_the_same_files_twice_are_refused(city, clock):
    with pytest.raises(Forbidden), city.session() as s:
        lifecycle.propose(s, bpmn_files(), Actor("dispatcher1", "dispatcher"), clock.now())
    with pytest.raises(Conflict), city.session() as s:
        lifecycle.propose(s, bpmn_files(), DESIGNER1, clock.now())  # identical to the active version
    with city.session() as s:
        assert len(s.scalars(select(DefinitionEvent)).all()) == 1  # only the set-up deployment


def test_a_refused_proposal_stores_nothing(city, clock):
    files = with_department(bpmn_files(), "E0102", "no_such_department")
    with pytest.raises(lifecycle.ProposalRefused) as refused, city.session() as s:
        lifecycle.propose(s, files, DESIGNER1, clock.now())
    assert [(p.kind, p.file, p.element_id) for p in refused.value.problems] == [
        ("department", "dispatch.dmn", "Rule_dispatch_34")]
    with city.session() as s:
        assert len(lifecycle.list_versions(s)) == 1


def test_deploying_stored_files_again_does_not_undo_an_approval(city, clock):
    from engine.definitions import deploy

    new_id = _propose(city, clock, with_department(bpmn_files(), "E0102", "sanitation@330192"))
    with city.session() as s:
        lifecycle.approve(s, new_id, DESIGNER2, clock.now())
    with city.session() as s:
        row, created = deploy(s, bpmn_files(), "cli", clock.now())  # make demo, run again
        assert not created and row.state == "retired"
        assert lifecycle.active_id(s) == new_id

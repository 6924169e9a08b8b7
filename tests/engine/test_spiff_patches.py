"""Each SpiffWorkflow patch of engine/spiff_patches.py does what it says, and only on tested releases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer
import SpiffWorkflow.task as spiff_task
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine import spiff_patches
from engine.clock import ManualClock, using_clock
from engine.definitions import build, read_definition_files
from engine.ids import IdSequence, using_ids
from engine.services import SCRIPT_ENGINE

FIXTURES = Path(__file__).resolve().parent / "fixtures"
AT = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def test_importing_the_script_engine_applied_every_patch():
    assert SCRIPT_ENGINE is not None
    assert spiff_timer.datetime is spiff_patches.ClockedDatetime
    assert TaskIterator.__next__ is spiff_patches._fast_iter_next
    assert DMNEngine.decide is spiff_patches._decide_first_hit
    assert BpmnWorkflow._do_engine_steps is spiff_patches._do_engine_steps
    assert spiff_task.Task._set_state is spiff_patches._set_state
    spiff_patches.apply()  # a second call changes nothing
    assert TaskIterator.__next__ is spiff_patches._fast_iter_next


def test_an_untested_spiffworkflow_release_is_refused():
    spiff_patches.check_version("3.2.0")
    with pytest.raises(RuntimeError, match=r"SpiffWorkflow 3\.3\.0 .*tested only on 3\.2\.0"):
        spiff_patches.check_version("3.3.0")


def test_installed_spiffworkflow_is_a_tested_release():
    spiff_patches.check_version()  # raises on a release nobody tested


def test_timers_and_task_stamps_read_the_injected_clock():
    with using_clock(ManualClock(AT)):
        assert spiff_timer.datetime.now(UTC) == AT
        assert spiff_task.time.time() == AT.timestamp()


def test_task_ids_follow_the_case_sequence_inside_a_command():
    expected = IdSequence("case-7")
    with using_ids(IdSequence("case-7")):
        assert [spiff_task.uuid4() for _ in range(3)] == [expected.next() for _ in range(3)]
    outside = spiff_task.uuid4()
    assert isinstance(outside, uuid.UUID) and outside != expected.next()


def _workflow() -> BpmnWorkflow:
    loaded = build(read_definition_files([FIXTURES]))
    with using_clock(ManualClock(AT)), using_ids(IdSequence("walk")):
        wf = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=SCRIPT_ENGINE)
        wf.do_engine_steps()
        start = wf.get_tasks(state=TaskState.READY)[0]
        start.data.update({"amount": 3})
        start.run()
        wf.do_engine_steps()
    return wf


def test_task_tree_walk_visits_the_same_tasks_in_the_same_order(monkeypatch):
    wf = _workflow()
    patched = [t.id for t in wf.get_tasks()]
    monkeypatch.setattr(TaskIterator, "__next__", spiff_patches._original_iter_next)
    original = [t.id for t in wf.get_tasks()]
    assert len(original) > 5
    assert patched == original


def _table(policy: str, matches: list[bool]):
    checked: list[int] = []

    def check(rule, _task):
        checked.append(rule)
        return matches[rule]

    engine = SimpleNamespace(decision_table=SimpleNamespace(rules=list(range(len(matches))), hit_policy=policy),
                             _DMNEngine__check_rule=check)
    return engine, checked


def test_dmn_first_hit_stops_at_the_first_matching_rule():
    engine, checked = _table("FIRST", [False, True, True, True])
    assert DMNEngine.decide(engine, None) == [1]
    assert checked == [0, 1]  # rules after the first hit are not evaluated


def test_dmn_collect_still_evaluates_every_rule():
    engine, checked = _table("COLLECT", [False, True, True, False])
    assert DMNEngine.decide(engine, None) == [1, 2]
    assert checked == [0, 1, 2, 3]


# --- 5. task lookups by state: the same tasks in the same order as SpiffWorkflow's walk ------------

def _unpatched_lookups(monkeypatch) -> None:
    """SpiffWorkflow's own walks for patch 5 (the other patches stay: clock, ids, iterator)."""
    from SpiffWorkflow.workflow import Workflow

    monkeypatch.setattr(Workflow, "get_tasks", spiff_patches._original_get_tasks)
    monkeypatch.setattr(Workflow, "update_waiting_tasks", spiff_patches._original_update_waiting)
    monkeypatch.setattr(BpmnWorkflow, "_do_engine_steps", spiff_patches._original_do_engine_steps)


def _stored_workflow(session, case):
    from engine import definitions
    from engine.state import load_state

    loaded = definitions.load(session, case.definition_id)
    wf, _ = load_state(case.state, loaded.spec, loaded.subprocess_specs, SCRIPT_ENGINE)
    return wf


def test_the_lifecycle_replayed_with_spiffworkflows_own_walks_gives_the_stored_state(city, clock, monkeypatch):
    """A case run with the patched lookups (a return, a rework, timers, the leaders' event
    subprocess waiting) is byte-for-byte what SpiffWorkflow's walks produce from its history."""
    from sqlalchemy import select

    from engine.audit import canonical_state, replay_state
    from engine.audit.chain import EVENT_COLUMNS
    from engine.definitions import load
    from engine.models import Case, Event
    from tests.engine.audit.walks import walk_return_and_rework

    assert BpmnWorkflow._do_engine_steps is spiff_patches._do_engine_steps
    d = walk_return_and_rework(city, clock)
    with city.session() as s:
        case = s.get(Case, d.case_id)
        columns = [getattr(Event, c.strip()) for c in EVENT_COLUMNS.split(",")]
        rows = s.execute(select(*columns).where(Event.case_id == case.id).order_by(Event.seq)).all()
        definition = load(s, case.definition_id)
        _unpatched_lookups(monkeypatch)
        replayed = replay_state(definition, case.number, rows, s)
        assert len(rows) == 14 and case.status == "closed"
        assert canonical_state(replayed) == canonical_state(case.state)


def test_task_lookups_by_state_match_the_walk_on_an_open_case(city, clock, monkeypatch):
    from engine.model import EngineContext
    from engine.models import Case
    from tests.factories import CaseDriver

    d = CaseDriver(city, EngineContext(clock))
    d.start()
    d.do("verify", {"verdict": "confirmed"})
    with city.session() as s:
        wf = _stored_workflow(s, s.get(Case, d.case_id))
    assert wf.subprocesses  # the leaders' event subprocess waits: its tasks count too
    masks = [*TaskState._values, TaskState.DEFINITE_MASK, TaskState.NOT_FINISHED_MASK, TaskState.ANY_MASK,
             TaskState.READY | TaskState.WAITING]
    patched = {m: [t.id for t in wf.get_tasks(state=m)] for m in masks}
    patched_manual = [t.id for t in wf.get_tasks(state=TaskState.READY, manual=True)]
    _unpatched_lookups(monkeypatch)
    assert {m: [t.id for t in wf.get_tasks(state=m)] for m in masks} == patched
    assert [t.id for t in wf.get_tasks(state=TaskState.READY, manual=True)] == patched_manual
    assert patched[TaskState.READY] and patched[TaskState.WAITING]  # not a comparison of empty lists


def test_waiting_tasks_are_updated_in_walk_order_and_only_while_still_waiting(monkeypatch):
    """Two WAITING tasks: both updated, in the walk's order; one that an earlier update moved on is skipped."""
    from SpiffWorkflow.workflow import Workflow

    wf = _workflow()
    definite = [t for t in wf.get_tasks() if t.state & TaskState.DEFINITE_MASK]
    first, second = definite[0], definite[-1]  # walk order: first before second
    order: list[str] = []

    def spec(name: str, moves=None) -> SimpleNamespace:
        def update(task):
            order.append(name)
            if moves is not None:
                moves._state = TaskState.COMPLETED
        return SimpleNamespace(name=name, _update=update, manual=False)

    for task in (second, first):  # set in the opposite order: the dictionary's order is not the walk's
        task._state = TaskState.WAITING
    second.task_spec = spec("second")
    first.task_spec = spec("first")
    Workflow.update_waiting_tasks(wf)
    assert order == ["first", "second"]
    order.clear()
    first.task_spec = spec("first", moves=second)
    Workflow.update_waiting_tasks(wf)
    assert order == ["first"]  # the walk would find the second no longer WAITING


# --- 6. state-change logging ---------------------------------------------------------------------

def test_state_changes_are_logged_with_their_extras_when_the_logger_wants_them(caplog):
    wf = _workflow()
    task = wf.get_tasks(state=TaskState.READY)[0]
    caplog.clear()
    with caplog.at_level("INFO", logger="spiff.task"), using_clock(ManualClock(AT)):
        task._set_state(TaskState.STARTED)
    [record] = [r for r in caplog.records if r.name == "spiff.task"]
    assert record.getMessage() == "State changed to STARTED"
    assert record.task_spec == task.task_spec.name and record.state == "STARTED"
    assert task.state == TaskState.STARTED and task.last_state_change == AT.timestamp()


def test_state_changes_stamp_the_task_when_nothing_is_logged():
    wf = _workflow()
    task = wf.get_tasks(state=TaskState.READY)[0]
    later = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    with using_clock(ManualClock(later)):
        task._set_state(TaskState.STARTED)
        task._set_state(TaskState.STARTED)  # the same state: no new stamp
    assert task.state == TaskState.STARTED and task.last_state_change == later.timestamp()

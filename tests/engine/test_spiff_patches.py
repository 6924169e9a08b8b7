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

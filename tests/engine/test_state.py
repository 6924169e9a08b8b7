"""Case state is stored without the spec and restores to an equivalent workflow (save/restore round trip)."""

from __future__ import annotations

from pathlib import Path

import orjson
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.definitions import build, read_definition_files
from engine.services import SCRIPT_ENGINE
from engine.state import dump_state, load_state

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "two_steps.bpmn"


def _ready(wf):
    return [t for t in wf.get_tasks(state=TaskState.READY)]


def test_state_round_trip_without_the_spec():
    from datetime import UTC, datetime

    from engine.clock import ManualClock, using_clock

    loaded = build(read_definition_files([FIXTURE.parent]))
    with using_clock(ManualClock(datetime(2026, 1, 5, 1, 0, tzinfo=UTC))):
        wf = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=SCRIPT_ENGINE)
        wf.do_engine_steps()
        first = _ready(wf)[0]
        first.data.update({"amount": 3})
        first.run()
        wf.do_engine_steps()
        blob = dump_state(wf, 7)
        assert b"task_specs" not in blob  # the spec is not in the stored state
        restored, counter = load_state(blob, loaded.spec, loaded.subprocess_specs, SCRIPT_ENGINE)
        assert counter == 7
        assert orjson.loads(dump_state(restored, 7)) == orjson.loads(blob)
        (second,) = _ready(restored)
        assert second.task_spec.bpmn_id == "second" and second.data["doubled"] == 6
        second.run()
        restored.do_engine_steps()
        assert restored.is_completed()


def test_fast_dump_equals_spiffworkflows_own_converters(sqlite_city, clock):
    """dump_state builds the task dictionaries itself for speed; it must match the reference."""
    from engine.commands import LIVE
    from engine.commands.frame import load_workflow, read_case
    from engine.fastsql import Writer
    from engine.model import EngineContext
    from engine.state import dump_state_reference
    from tests.factories import CaseDriver

    d = CaseDriver(sqlite_city, EngineContext(clock))
    d.start()
    d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": "sanitation@330191"})
    LIVE.clear()
    with sqlite_city.session() as s:
        loaded = load_workflow(s, read_case(Writer(s), d.case_id))
    wf = loaded.workflow
    assert orjson.loads(dump_state(wf, 3)) == orjson.loads(dump_state_reference(wf, 3))

"""Step-by-step replay (engine.audit.steps): what the diagram shows after each recorded event."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from engine.audit.steps import ChangeKind, ElementState, definition_xml, diff, replay_steps
from engine.models import Case, Event
from tests.engine.audit.tamper import tamper
from tests.engine.audit.walks import STEPS, walk_return_and_rework


def _active(step) -> set[str]:
    return {k for k, v in step.elements.items() if v == ElementState.ACTIVE}


def _waiting(step) -> set[str]:
    return {k for k, v in step.elements.items() if v == ElementState.WAITING}


def test_every_event_is_a_step_with_what_was_open_then(city, clock):
    d = walk_return_and_rework(city, clock)
    with city.session() as s:
        case = s.get(Case, d.case_id)
        replay = replay_steps(s, case)
        events = s.scalar(select(func.count()).select_from(Event).where(Event.case_id == case.id))
        hashes = list(s.scalars(select(Event.hash).where(Event.case_id == case.id).order_by(Event.seq)))
    assert replay.error is None
    assert [st.seq for st in replay.steps] == list(range(1, events + 1)) and events == len(STEPS)
    assert [st.hash for st in replay.steps] == hashes
    step = {name: replay.steps[seq - 1] for name, seq in STEPS.items()}
    assert _active(step["start"]) == {"verify"}
    assert {"verify_warning", "verify_overdue"} <= _waiting(step["start"])
    # returned: the department's handling is done, the return waits for approval, no handle timers
    assert _active(step["return"]) == {"approve_return"}
    assert step["return"].elements["handle"] == ElementState.COMPLETED
    assert not {"handle_warning", "handle_overdue"} & _waiting(step["return"])
    assert _active(step["approve_return"]) == {"dispatch"}
    assert _active(step["redispatch"]) == {"handle"} and {"handle_warning", "handle_overdue"} <= _waiting(step["redispatch"])
    # a claim changes no workflow state: the same picture, its own who and hash
    assert step["claim_late"].elements == step["redispatch"].elements and step["claim_late"].changes == []
    assert step["claim_late"].kind == "claim" and step["claim_late"].actor == "handler_municipal"
    # the failed check sends the case back to the same department's handling (rework)
    assert _active(step["check_failed"]) == {"handle"}
    assert step["check_failed"].elements["check"] == ElementState.COMPLETED
    # a citizen's case is closed, then called back (回访): the callback is the one open step
    assert _active(step["close"]) == {"Followup_callback"} and step["close"].elements["close"] == ElementState.COMPLETED
    # the leaders' event subprocess waits for a supervision order until the workflow ends
    assert "supervision_received" in _waiting(step["handle"])
    d.do("Followup_callback", {"satisfaction": "satisfied", "channel": "phone"})
    with city.session() as s:
        last = replay_steps(s, s.get(Case, d.case_id)).steps[-1]
    assert last.task_spec == "Followup_callback" and _active(last) == set()
    assert "supervision_received" not in _waiting(last) and last.elements["end_closed"] == ElementState.COMPLETED


def test_steps_carry_decisions_data_changes_and_deadlines(city, clock):
    d = walk_return_and_rework(city, clock)
    with city.session() as s:
        replay = replay_steps(s, s.get(Case, d.case_id))
    returned = replay.steps[STEPS["return"] - 1]
    assert returned.task_spec == "handle" and returned.role == "handler"
    assert returned.form["outcome"] == "return" and returned.form["result"] == "不属于本单位"
    outcome = [c for c in returned.changes if c.key == "outcome"]
    assert outcome and outcome[0].kind == ChangeKind.ADDED and outcome[0].after == "return"
    redispatch = replay.steps[STEPS["redispatch"] - 1]
    department = [c for c in redispatch.changes if c.key == "department"]
    assert department and department[0].kind == ChangeKind.CHANGED
    assert (department[0].before, department[0].after) == ("sanitation@330191", "municipal")
    handle = [t for t in redispatch.open_tasks if t.spec_id == "handle"][0]
    assert handle.warn_at is not None and handle.due_at is not None and handle.warn_at < handle.due_at
    assert redispatch.at < handle.warn_at  # green when dispatched
    late = replay.steps[STEPS["claim_late"] - 1]
    late_handle = [t for t in late.open_tasks if t.spec_id == "handle"][0]
    assert late_handle.warn_at <= late.at < late_handle.due_at  # yellow when claimed
    assert [t.spec_id for t in replay.steps[-1].open_tasks] == ["Followup_callback"]  # closed, then 回访


def test_definition_xml_is_the_version_the_case_ran_on(city, clock):
    from engine import definitions

    d = walk_return_and_rework(city, clock)
    with city.session() as s:
        case = s.get(Case, d.case_id)
        xml = definition_xml(definitions.load(s, case.definition_id))
    assert 'id="case_lifecycle"' in xml and "bpmndi:BPMNDiagram" in xml


def test_a_damaged_history_keeps_the_steps_before_the_damage(city, clock):
    d = walk_return_and_rework(city, clock)
    tamper(city, "UPDATE event SET data = 'not json' WHERE case_id = :c AND seq = 5", c=d.case_id)
    with city.session() as s:
        replay = replay_steps(s, s.get(Case, d.case_id))
    assert [st.seq for st in replay.steps] == [1, 2, 3, 4]
    assert replay.error and "4 steps" in replay.error


def test_diff_names_added_changed_and_removed_keys():
    changes = diff({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "d": 4})
    assert [(c.key, c.kind) for c in changes] == [("b", ChangeKind.CHANGED), ("c", ChangeKind.REMOVED),
                                                  ("d", ChangeKind.ADDED)]


def test_replay_of_a_case_with_a_timer_and_an_order(city, clock):
    """Timer and message events are replayed too: the escalation opens on the diagram."""
    from engine.commands import fire_timers, supervise
    from engine.model import EngineContext
    from tests.factories import Actor, CaseDriver

    d = CaseDriver(city, EngineContext(clock))
    d.start(source="supervisor")
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": "sanitation@330191"})
    clock.advance(timedelta(days=3))
    with city.session() as s:
        assert fire_timers(s, EngineContext(clock), d.case_id) is not None
    with city.session() as s:
        supervise(s, EngineContext(clock), d.case_id, Actor("leader1", "leader"), "remind", "快")
    with city.session() as s:
        replay = replay_steps(s, s.get(Case, d.case_id))
    assert replay.error is None
    timer, message = replay.steps[-2], replay.steps[-1]
    assert timer.kind == "timer" and "escalate" in _active(timer)
    assert timer.elements.get("handle_overdue") == ElementState.COMPLETED
    assert message.kind == "message" and message.details["payload"]["text"] == "快"

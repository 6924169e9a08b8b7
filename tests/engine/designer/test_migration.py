"""Moving open cases to a new version: dry run with reasons, ids/claims/deadlines kept, verify still passes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.audit import verify_all
from engine.commands import claim
from engine.designer import lifecycle, migration
from engine.errors import ValidationError
from engine.model import EngineContext
from engine.models import Case, Deadline, Event, TaskRow
from engine.queries.process_data import task_data
from tests.engine.designer.helpers import DESIGNER1, DESIGNER2, bpmn_files, with_department, with_first_limit
from tests.factories import CaseDriver, actor_for, task_of


def _activate(city, clock, files) -> int:
    with city.session() as s:
        vid = lifecycle.propose(s, files, DESIGNER1, clock.now()).id
    with city.session() as s:
        lifecycle.approve(s, vid, DESIGNER2, clock.now())
    return vid


def _lane_moved(files):
    """``accept`` moves from the acceptor lane to the shift leader's: a case waiting there cannot move."""
    bpmn = files["case_lifecycle.bpmn"].replace("<bpmn:flowNodeRef>accept</bpmn:flowNodeRef>", "", 1)
    lane = bpmn.index('<bpmn:lane id="Lane_shift_leader"')
    ref = bpmn.index("<bpmn:flowNodeRef>", lane)
    bpmn = bpmn[:ref] + "<bpmn:flowNodeRef>accept</bpmn:flowNodeRef>" + bpmn[ref:]
    return {**files, "case_lifecycle.bpmn": bpmn}


def test_dry_run_then_move_keeps_tasks_and_verify_passes(city, clock):
    ctx = EngineContext(clock)
    waiting = CaseDriver(city, ctx)
    waiting.start(source="supervisor")
    first_task = waiting.tasks()
    with city.session() as s:
        row = task_of(s, waiting.case_id, first_task[0])
        claim(s, ctx, row.id, actor_for(row))
        before = {t.id: (t.spec_id, t.assignee, t.due_at) for t in s.scalars(
            select(TaskRow).where(TaskRow.case_id == waiting.case_id))}
        deadlines_before = sorted((d.task_id, d.due_at) for d in s.scalars(
            select(Deadline).where(Deadline.case_id == waiting.case_id)))
    old_id = city_active(city)
    new_id = _activate(city, clock, with_first_limit(with_department(bpmn_files(), "E0102", "sanitation@330192"), "3"))
    with city.session() as s:
        checks = migration.plan(s, new_id)
    assert [(c.case_id, c.movable, c.reasons) for c in checks] == [(waiting.case_id, True, [])]
    clock.advance(timedelta(minutes=5))
    with city.session() as s:
        moved = migration.move(s, waiting.case_id, new_id, "designer1", clock.now())
    assert (moved.from_id, moved.to_id) == (old_id, new_id)
    with city.session() as s:
        case = s.get(Case, waiting.case_id)
        assert case.definition_id == new_id
        after = {t.id: (t.spec_id, t.assignee, t.due_at) for t in s.scalars(
            select(TaskRow).where(TaskRow.case_id == waiting.case_id))}
        assert after == before
        assert sorted((d.task_id, d.due_at) for d in s.scalars(
            select(Deadline).where(Deadline.case_id == waiting.case_id))) == deadlines_before
        event = s.scalars(select(Event).where(Event.case_id == waiting.case_id, Event.kind == "migration")).one()
        assert event.actor == "designer1" and f'"from_id":{old_id}' in event.data
        assert migration.plan(s, new_id) == []
    assert first_task == ["accept"]
    waiting.do("accept", {"decision": "file"})  # the case goes on under the new version
    waiting.do("file", {"decision": "file"})
    with city.session() as s:  # the migrated case now follows the new dispatch rule
        assert task_data(s, task_of(s, waiting.case_id, "dispatch").id)["suggested_department"] == "sanitation@330192"
    with city.session() as s:
        checked, problems = verify_all(s)
    assert checked >= 1 and problems == []


def test_cases_that_cannot_move_say_why_and_are_refused(city, clock):
    ctx = EngineContext(clock)
    case = CaseDriver(city, ctx)
    case.start(source="supervisor")
    assert case.tasks() == ["accept"]
    new_id = _activate(city, clock, _lane_moved(bpmn_files()))
    with city.session() as s:
        [check] = migration.plan(s, new_id)
    assert not check.movable and [str(r) for r in check.reasons] == ["accept: moved from lane 'acceptor' to 'shift_leader'"]
    with pytest.raises(ValidationError), city.session() as s:
        migration.move(s, case.case_id, new_id, "designer1", clock.now())
    with city.session() as s:
        assert s.get(Case, case.case_id).definition_id != new_id
        assert verify_all(s)[1] == []


def city_active(city) -> int:
    with city.session() as s:
        return lifecycle.active_id(s)


def _reminder_on(files, element="handle", due="handle_deadline['warn_at']"):
    """A new timer boundary event on ``element`` leading to its own end."""
    bpmn = files["case_lifecycle.bpmn"]
    at = bpmn.index('    <bpmn:boundaryEvent id="handle_overdue"')
    added = (
        f'    <bpmn:boundaryEvent id="{element}_reminder" name="提醒" cancelActivity="false" attachedToRef="{element}">\n'
        f'      <bpmn:outgoing>Flow_{element}_reminder_to_end</bpmn:outgoing>\n'
        f'      <bpmn:timerEventDefinition id="TimerDef_{element}_reminder"><bpmn:timeDate xsi:type="bpmn:tFormalExpression" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{due}</bpmn:timeDate>'
        '</bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>\n'
        f'    <bpmn:endEvent id="{element}_reminder_end"><bpmn:incoming>Flow_{element}_reminder_to_end</bpmn:incoming>'
        '</bpmn:endEvent>\n'
        f'    <bpmn:sequenceFlow id="Flow_{element}_reminder_to_end" sourceRef="{element}_reminder" '
        f'targetRef="{element}_reminder_end" />\n')
    return {**files, "case_lifecycle.bpmn": bpmn[:at] + added + bpmn[at:]}


def _waiting_specs(city, case_id) -> set[str]:
    from SpiffWorkflow.util.task import TaskState

    from engine import definitions
    from engine.services import SCRIPT_ENGINE
    from engine.state import load_state

    with city.session() as s:
        case = s.get(Case, case_id)
        loaded = definitions.load(s, case.definition_id)
        wf, _ = load_state(case.state, loaded.spec, loaded.subprocess_specs, SCRIPT_ENGINE)
    return {t.task_spec.name for t in wf.get_tasks(state=TaskState.WAITING)}


def test_a_boundary_event_added_to_an_open_task_blocks_the_move_until_the_task_is_done(city, clock):
    """SpiffWorkflow creates an element's boundary events when the split in front of it runs: moved
    while ``handle`` is open, the new reminder would never fire. Such a case stays (with the reason);
    a case not yet at ``handle`` moves, arms the reminder when it gets there, and verifies."""
    ctx = EngineContext(clock)
    at_handle, at_accept = CaseDriver(city, ctx), CaseDriver(city, ctx)
    at_handle.start(source="supervisor")
    at_handle.do("accept", {"decision": "file"})
    at_handle.do("file", {"decision": "file"})
    at_handle.do("dispatch", {"department": "sanitation"})
    assert at_handle.tasks() == ["handle"]
    at_accept.start(source="supervisor")
    new_id = _activate(city, clock, _reminder_on(bpmn_files()))
    with city.session() as s:
        checks = {c.case_id: c for c in migration.plan(s, new_id)}
    blocked = checks[at_handle.case_id]
    assert not blocked.movable
    assert [(r.code, r.params) for r in blocked.reasons] == [
        (migration.MoveBlock.BOUNDARY_ADDED, {"element": "handle", "events": "handle_reminder"})]
    assert checks[at_accept.case_id].movable
    with pytest.raises(ValidationError, match="handle_reminder"), city.session() as s:
        migration.move(s, at_handle.case_id, new_id, "designer1", clock.now())
    with city.session() as s:
        migration.move(s, at_accept.case_id, new_id, "designer1", clock.now())
    at_accept.do("accept", {"decision": "file"})
    at_accept.do("file", {"decision": "file"})
    at_accept.do("dispatch", {"department": "sanitation"})
    assert "handle_reminder" in _waiting_specs(city, at_accept.case_id)  # armed on the new version
    with city.session() as s:
        reminder = s.scalars(select(Deadline).where(Deadline.case_id == at_accept.case_id)).all()
    assert len(reminder) == len({d.task_id for d in reminder}) >= 3  # warning, overdue and the reminder
    at_handle.do("handle", {"outcome": "done", "result": "已处置"})  # the open task done: now it can move
    with city.session() as s:
        assert [c.movable for c in migration.plan(s, new_id, [at_handle.case_id])] == [True]
        migration.move(s, at_handle.case_id, new_id, "designer1", clock.now())
    from click.testing import CliRunner

    import cli.audit  # noqa: F401  (attaches ``citycase verify``)
    from cli.base import cli as citycase

    cases = [arg for c in (at_handle, at_accept) for arg in ("--case", c.case().number)]
    result = CliRunner().invoke(citycase, ["--database-url", city.url, "verify", "--workers", "1", *cases],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_a_first_boundary_event_on_an_open_task_is_named_as_the_reason(city, clock):
    ctx = EngineContext(clock)
    case = CaseDriver(city, ctx)
    case.start(source="supervisor", self_handled=True)
    assert case.tasks() == ["confirm_self_handled"]  # an element without boundary events so far
    new_id = _activate(city, clock, _reminder_on(bpmn_files(), "confirm_self_handled",
                                                 "step_deadline(step_hours)['warn_at']"))
    with city.session() as s:
        [check] = migration.plan(s, new_id)
    assert [(r.code, r.params["element"], r.params["events"]) for r in check.reasons] == [
        (migration.MoveBlock.BOUNDARY_ADDED, "confirm_self_handled", "confirm_self_handled_reminder")]

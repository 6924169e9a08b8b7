"""The workflow changes a command makes, shared with replay (engine.audit) so both run identically."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine import spiff_patches
from engine.clock import Clock, using_clock
from engine.commands.snapshot import MERGED_INTO
from engine.errors import Conflict
from engine.ids import IdSequence, using_ids
from engine.servicelog import ServiceLog, using_service_log
from handlers.context import ServiceContext, using_service_context

spiff_patches.apply()


def apply_start(workflow: BpmnWorkflow, initial: dict[str, Any]) -> None:
    start = workflow.get_tasks(state=TaskState.READY)[0]
    start.data.update(initial)


def apply_complete(workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
    task = workflow.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.READY:
        raise Conflict(f"task {task_id} is no longer open")
    task.data.update(data)
    task.run()


def apply_message(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    workflow.catch(BpmnEvent(MessageEventDefinition(name), payload))


def apply_correction(workflow: BpmnWorkflow, values: dict[str, Any]) -> None:
    """A correction of the report (class, urgency, place): the live tasks see the corrected values,
    so the steps still to come (the dispatch rule) follow them. Deadlines already set stay."""
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        task.data.update(values)


def apply_merge(workflow: BpmnWorkflow, original: str) -> None:
    """A duplicate merged into ``original``: every open task of its workflow ends (cancelled) and
    the workflow's data names the original, which is what makes its status ``merged``."""
    workflow.data[MERGED_INTO] = original
    workflow.cancel()


REOPEN_GATEWAY = "Reopen_gw"  # bpmn/case_lifecycle.bpmn: where a reopened case re-enters


def apply_reopen(workflow: BpmnWorkflow, data: dict[str, Any]) -> None:
    """A closed case reopened: the workflow goes back to the BPMN's reopen gateway (passed when
    it closed) with ``reopen`` set, so the gateway sends it into a new handling round."""
    passed = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == REOPEN_GATEWAY]
    if not passed:
        raise Conflict("this case's process has no reopen step (started on an older process version)")
    gateway = max(passed, key=lambda t: t.last_state_change)
    workflow.reset_from_task_id(gateway.id)
    gateway.data.update({**data, "reopen": True})  # after the reset, which inherits its parent's data
    workflow.completed = False  # a terminate end event marked it completed for good


def apply_timers(workflow: BpmnWorkflow) -> None:
    workflow.refresh_timers()


def step_workflow(workflow: BpmnWorkflow, clock: Clock, ids: IdSequence, log: ServiceLog,
                  service_ctx: ServiceContext, apply: Callable[[BpmnWorkflow], Any]) -> Any:
    """The one way a command changes a workflow; replay calls it too, so both run identically.

    ``clock`` must not move during the call (commands pass their frozen instant, replay the
    recorded one): SpiffWorkflow stamps every task it touches with the clock's time."""
    with using_clock(clock), using_ids(ids), using_service_log(log), using_service_context(service_ctx):
        result = apply(workflow)
        # Timers that came due are noticed before the engine runs, so one pass of engine steps
        # covers both; a timer created during this pass is evaluated when it starts waiting.
        workflow.refresh_timers()
        workflow.do_engine_steps()
    return result

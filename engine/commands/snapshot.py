"""What the projection needs from a workflow, found in one pass over its tasks, and the case
status it implies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.definitions import LoadedDefinition
from engine.model import CaseStatus


@dataclass
class Snapshot:
    ready: dict[str, Any]  # READY user tasks by id
    timers: dict[str, tuple[str, datetime]]  # WAITING timer task id -> (name, due)
    data: dict[str, Any]  # the freshest live task data
    suspended: bool


def snapshot(wf: BpmnWorkflow) -> Snapshot:
    ready: dict[str, Any] = {}
    timers: dict[str, tuple[str, datetime]] = {}
    freshest = None
    suspended = False
    live = TaskState.READY | TaskState.WAITING | TaskState.STARTED
    tasks = list(wf.tasks.values())
    for sub in wf.subprocesses.values():
        tasks.extend(sub.tasks.values())
    for task in tasks:
        state = task.state
        if not state & live:
            continue
        if freshest is None or task.last_state_change > freshest.last_state_change:
            freshest = task
        spec = task.task_spec
        if state == TaskState.READY and isinstance(spec, UserTask):
            ready[str(task.id)] = task
            suspended = suspended or spec.bpmn_id == "resume"
        elif state == TaskState.WAITING and isinstance(getattr(spec, "event_definition", None), TimerEventDefinition):
            value = task._get_internal_data("event_value")
            if isinstance(value, dict):  # cycle timers keep {"next": …}
                value = value.get("next")
            if value:
                timers[str(task.id)] = (spec.bpmn_id or spec.name, TimerEventDefinition.get_datetime(value))
    # The case's current data: that of its open user tasks (they carry the latest form input),
    # else of the most recently changed live task.
    if ready:
        data = max(ready.values(), key=lambda t: t.last_state_change).data
    else:
        data = freshest.data if freshest is not None else (wf.last_task.data if wf.last_task else {})
    return Snapshot(ready, timers, data, suspended)


# End-event outcomes (bpmn extension property) -> case status.
_OUTCOME_STATUS = {"closed": CaseStatus.CLOSED, "self_handled": CaseStatus.CLOSED, "voided": CaseStatus.VOIDED,
                   "invalid": CaseStatus.INVALID, "merged": CaseStatus.MERGED}
# Workflow data set when a case is merged into another (engine.commands.followup.apply_merge).
MERGED_INTO = "merged_into"


def case_status(wf: BpmnWorkflow, definition: LoadedDefinition, snap: Snapshot) -> tuple[CaseStatus, str | None]:
    """(status, outcome): outcome is set once the workflow has completed."""
    if not wf.is_completed():
        waiting = sorted({o for t in snap.ready.values() if (o := definition.waiting_outcomes.get(t.task_spec.bpmn_id))})
        if waiting:
            # An after-closing step (回访) is open: the case is closed (a leftover branch, e.g. a
            # leader's 督办 task of an earlier overdue, ends with the workflow after the callback).
            return _OUTCOME_STATUS.get(waiting[0], CaseStatus.CLOSED), waiting[0]
        return (CaseStatus.SUSPENDED if snap.suspended else CaseStatus.OPEN), None
    if wf.data.get(MERGED_INTO):
        return CaseStatus.MERGED, "merged"
    for task in wf.get_tasks(state=TaskState.COMPLETED):
        outcome = definition.outcomes.get(task.task_spec.bpmn_id)
        if outcome:
            return _OUTCOME_STATUS.get(outcome, CaseStatus.CLOSED), outcome
    return CaseStatus.CLOSED, "completed"

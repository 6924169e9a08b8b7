"""Process variables: what a READY task sees (``task_data``) and the case's current data
(``case_data``), read from the stored workflow state. Read-only: nothing is saved from here.

The stored state is restored with the engine's own loader (the same one commands use), so the
values are exactly what the workflow would see — no second parser of SpiffWorkflow's format.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import definitions
from engine.errors import NotFound
from engine.models import Case, TaskRow
from engine.services import SCRIPT_ENGINE
from engine.state import load_state


def _json_native(data: Any) -> dict[str, Any]:
    """Process variables as JSON values (anything else becomes its string form)."""
    if not isinstance(data, dict):
        return {}
    return orjson.loads(orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS))


def _workflow(session: Session, case_id: int) -> BpmnWorkflow:
    row = session.execute(select(Case.definition_id, Case.state).where(Case.id == case_id)).first()
    if row is None:
        raise NotFound(f"case {case_id} does not exist")
    definition = definitions.load(session, row.definition_id)
    workflow, _ids = load_state(row.state, definition.spec, definition.subprocess_specs, SCRIPT_ENGINE)
    return workflow


def task_data(session: Session, task_id: str) -> dict[str, Any]:
    """The data the open task ``task_id`` sees (e.g. the dispatch rule's ``suggested_department``),
    as JSON values; NotFound once the task is no longer open. No visibility check: callers show
    it only after ``task_view``."""
    case_id = session.scalar(select(TaskRow.case_id).where(TaskRow.id == task_id))
    if case_id is None:
        raise NotFound(f"task {task_id} is not open (it was completed, or the case moved on)")
    task = _workflow(session, case_id).get_task_from_id(UUID(task_id))
    return _json_native(task.data) if task is not None else {}


def case_data(session: Session, case_id: int) -> dict[str, Any]:
    """The case's current process variables: those of its most recently changed live task (the
    latest form input), or the finished workflow's data."""
    workflow = _workflow(session, case_id)
    last = workflow.last_task.data if workflow.last_task else {}
    if workflow.is_completed():
        return _json_native(workflow.data or last)
    live = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
    if not live:
        return _json_native(last)
    return _json_native(max(live, key=lambda t: t.last_state_change).data)


__all__ = ["task_data", "case_data"]

"""Commands on one user task: claim, release, complete_task (and the form's runtime options)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.commands.frame import CommandFrame, Outcome, updated
from engine.commands.results import CaseResult, ClaimResult
from engine.commands.start import attach
from engine.commands.steps import apply_complete
from engine.errors import Conflict, Forbidden
from engine.forms import validate as validate_form
from engine.metrics import Command
from engine.model import Actor, EngineContext, EventKind
from engine.models import Department, TaskRow
from engine.queries.visibility import check_claim_permission, check_task_permission, may_take_over


def claim(session: Session, ctx: EngineContext, task_id: str, actor: Actor, *,
          take_over: bool = False) -> ClaimResult:
    """Claim a task; with ``take_over`` the city centre may claim one someone else holds (issue 15)."""
    with CommandFrame(session, ctx, Command.CLAIM) as frame:
        task = frame.task(task_id)
        (check_claim_permission if take_over else check_task_permission)(actor, task)
        case = frame.case(task.case_id)  # lock order: case first, like every other command
        if take_over and may_take_over(actor, task):  # the city centre takes a claimed task over
            changed = updated(session, update(TaskRow).where(TaskRow.id == task_id,
                                                             TaskRow.assignee == task.assignee)
                              .values(assignee=actor.username))
            data = {"taken_over_from": task.assignee}
        else:
            changed = updated(session, update(TaskRow).where(TaskRow.id == task_id, TaskRow.assignee.is_(None))
                              .values(assignee=actor.username))
            data = {}
        if changed != 1 and task.assignee != actor.username:
            raise Conflict(f"task {task.name} was claimed by someone else")
        frame.annotate(case, actor, EventKind.CLAIM, task, data or None)
        return ClaimResult(task_id, actor.username)


def release(session: Session, ctx: EngineContext, task_id: str, actor: Actor) -> ClaimResult:
    with CommandFrame(session, ctx, Command.RELEASE) as frame:
        task = frame.task(task_id)
        if task.assignee != actor.username:
            raise Forbidden(f"task {task.name} is not claimed by you")
        case = frame.case(task.case_id)
        session.execute(update(TaskRow).where(TaskRow.id == task_id).values(assignee=None))
        frame.annotate(case, actor, EventKind.RELEASE, task)
        return ClaimResult(task_id, None)


def form_options(session: Session, spec_id: str) -> dict[str, list[Any]]:
    """Runtime choices for form fields with a valuesKey (e.g. the departments to dispatch to)."""
    departments = session.execute(select(Department.code, Department.name)
                                  .where(Department.handler_type.notin_(["supervision_center", "command_center"]),
                                         Department.active.is_(True))  # deactivated on the admin pages
                                  .order_by(Department.code)).all()
    return {"department_options": [{"value": d.code, "label": d.name} for d in departments]}


def complete_task(session: Session, ctx: EngineContext, task_id: str, actor: Actor, data: dict[str, Any],
                  expected_version: int | None = None) -> CaseResult:
    """Complete a user task with form data validated against the task's form."""
    with CommandFrame(session, ctx, Command.COMPLETE_TASK) as frame:
        task, case = frame.task_and_case(task_id)
        check_task_permission(actor, task)
        if expected_version is not None and expected_version != case.version:
            raise Conflict("the case changed since you opened it; reload to see the new state")
        loaded = frame.load(case)
        form = loaded.definition.user_tasks[task.spec_id].form
        options = form_options(session, task.spec_id) if any(f.values_key for f in form.fields) else {}
        clean = validate_form(form, data or {}, options)
        photos = [tok for f in form.fields if f.type == "filepicker" for tok in clean.get(f.key) or []]
        if photos:
            attach(session, case.id, photos, actor)
        outcome = Outcome(EventKind.COMPLETE, actor.username, task_id, task.spec_id, {"form": clean})
        frame.run(loaded, outcome, lambda wf: apply_complete(wf, task_id, clean))
        return frame.save(loaded, outcome)

"""Assign an open task of a department to a named person of that department, or reassign it.

Inside a department (专业部门 / 处置单位) the unit's leader decides who of its staff handles a
dispatched case: ``assign`` sets the task's assignee as a claim would, so the task is in the
named person's "mine" tab and nobody else of the department can claim or complete it. Moving a
task that somebody holds (reassign) needs a reason. Like claim and release it is a history event
that leaves the workflow alone (``assign``: to, from, reason); ``verify`` re-derives every open
task's holder from these events (engine.audit.assignees).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.commands.frame import CommandFrame, updated
from engine.commands.results import ClaimResult
from engine.errors import Conflict, Forbidden, ValidationError
from engine.metrics import Command
from engine.model import Actor, EngineContext, EventKind
from engine.models import TaskRow, User
from engine.queries.visibility import assign_refusal

MAX_REASON = 500
KEEP = object()  # "the caller did not say which holder it saw": no stale-view check


def assign(session: Session, ctx: EngineContext, task_id: str, actor: Actor, to: str, reason: str = "",
           expected_assignee: str | None | object = KEEP) -> ClaimResult:
    """Give the task to user ``to``. ``expected_assignee``: who held it when the caller looked
    (None = nobody); a different holder now is a Conflict, so two leaders never overwrite each other."""
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationError(f"the reason is longer than {MAX_REASON} characters",
                              {"reason": f"理由最多 {MAX_REASON} 字 / at most {MAX_REASON} characters"})
    with CommandFrame(session, ctx, Command.ASSIGN) as frame:
        task = frame.task(task_id)
        refusal = assign_refusal(actor, task)
        if refusal is not None:
            raise Forbidden(refusal)
        case = frame.case(task.case_id)  # lock order: case first, like every other command
        if expected_assignee is not KEEP and expected_assignee != task.assignee:
            raise Conflict(f"task {task.name} changed meanwhile: it is now held by {task.assignee or 'nobody'}; "
                           f"reload and decide again")
        _check_target(session, task.role, task.department_code, to)
        if to == task.assignee:
            raise ValidationError(f"task {task.name} is already assigned to {to}",
                                  {"assignee": "任务已由此人办理 / the task is already with this person"})
        if task.assignee is not None and not reason:
            raise ValidationError("say why the task moves to another person", {"reason": "required"})
        prev = task.assignee
        holder = TaskRow.assignee.is_(None) if prev is None else TaskRow.assignee == prev
        if updated(session, update(TaskRow).where(TaskRow.id == task_id, holder).values(assignee=to)) != 1:
            raise Conflict(f"task {task.name} changed meanwhile; reload and decide again")
        frame.annotate(case, actor, EventKind.ASSIGN, task, {"to": to, "from": prev, "reason": reason})
        return ClaimResult(task_id, to)


def _check_target(session: Session, role: str, department: str | None, username: str) -> None:
    """The new holder must be an active user with the task's role in the task's department."""
    user = session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        raise ValidationError(f"there is no user {username!r}", {"assignee": "没有这个用户 / no such user"})
    if not user.active:
        raise ValidationError(f"user {username} is disabled", {"assignee": "此用户已停用 / this user is disabled"})
    if user.role != role or user.department_code != department:
        raise ValidationError(f"user {username} is not a {role} of department {department}",
                              {"assignee": "此人不是本部门的办理人员 / this person does not work on this department's tasks"})

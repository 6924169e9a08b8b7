"""The department's tasks (部门任务) for its leader: who holds each open task, and a control to give
it to a named person of the department or move it on with a reason (engine.commands.assign)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.calendar import get_calendar
from engine.commands import assign
from engine.errors import Conflict, Forbidden, ValidationError
from engine.queries.assignment import assignable_people, department_tasks, display_names
from web.cases import reference as refdata
from web.cases.display import pick, remaining_text, task_name
from web.extensions import get_session, rollback
from web.inbox import bp
from web.messages import PageForbidden, field_messages
from web.security import config, current_actor, engine_context, now, role_required


def _leader():
    actor = current_actor()
    if actor.department_code is None:
        raise PageForbidden(_("Only a department's leader assigns its tasks to a person."))
    return actor


@bp.route("/inbox/department")
@role_required("leader")
def department():
    actor = _leader()
    session = get_session()
    instant = now()
    items = department_tasks(session, actor)
    people = assignable_people(session, actor.department_code)
    names = display_names(session, {t.assignee for t in items if t.assignee})
    cal = get_calendar(session, config()["TIMEZONE"], config()["WORK_WINDOWS"])
    ref = refdata.reference(session)
    rows: list[dict[str, Any]] = [{
        "row": t, "name": task_name(t.spec_id, t.name), "class_name": pick(t.class_name, t.class_name_en),
        "place": f"{refdata.region_name(ref, t.district_code)} / {refdata.region_name(ref, t.street_code)}",
        "light": t.light_at(instant), "remaining": remaining_text(cal, instant, t.due_at, t.natural_time),
        "holder": names.get(t.assignee or "", t.assignee), "people": people.get(t.role, []),
    } for t in items]
    dept = ref.departments.get(actor.department_code or "")
    return render_template("inbox/department.html", rows=rows,
                           department=pick(dept.name, dept.name_en) if dept else actor.department_code)


@bp.route("/tasks/<task_id>/assign", methods=["POST"])
@role_required("leader")
def assign_task(task_id: str):
    actor = _leader()
    to = request.form.get("assignee", "").strip()
    expected = request.form.get("expected", "").strip() or None
    try:
        assign(get_session(), engine_context(), task_id, actor, to, request.form.get("reason", ""),
               expected_assignee=expected)
    except Conflict:
        rollback()
        flash(_("The task changed meanwhile (someone else assigned or finished it). Check the list and decide again."),
              "error")
    except (ValidationError, Forbidden) as exc:
        rollback()
        messages = field_messages(getattr(exc, "fields", {}) or {})
        flash(_("The task was not assigned: %(msg)s", msg=" ".join(messages.values())
                or _("choose a person of your department.")), "error")
    else:
        name = display_names(get_session(), {to}).get(to, to)
        flash(_("Assigned to %(name)s: the task is now in their “My tasks”.", name=name), "success")
    return redirect(url_for("inbox.department"))

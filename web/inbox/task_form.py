"""The task form page: a user task's form-js form rendered server-side, validated by the engine."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import definitions
from engine.commands import complete_task, form_options
from engine.commands.followup import MERGERS
from engine.errors import Conflict, NotFound, ValidationError
from engine.forms import FormField, FormSpec
from engine.model import INBOX_ROLES
from engine.queries import CaseRecord, find_case, load_case, may_see_case, task_view
from engine.queries.decisions import Step, decision_context
from engine.queries.process_data import task_data
from web.cases import reference as refdata
from web.cases.attachments import case_photos, store_upload
from web.cases.display import person, pick, remaining_text, task_name
from web.cases.views import form_summary
from web.extensions import get_session, rollback
from web.inbox import bp
from web.messages import PageConflict, PageNotFound, error_message, field_messages, upload_message
from web.security import config, current_actor, engine_context, now, role_required

UPLOAD_STAGE = {"handle": "handle", "check": "check", "verify": "check"}
_TRUE = {"on", "true", "1"}


def upload_stage(spec_id: str) -> str:
    return UPLOAD_STAGE.get(spec_id, "report")


def choices_for(f: FormField, options: dict[str, list[Any]]) -> list[tuple[str, str]]:
    if f.values_key is None:
        return [(c.value, pick(c.label, c.label_en)) for c in f.values]
    ref = refdata.reference(get_session())
    result = []
    for item in options.get(f.values_key, []):
        value = str(item.get("value") if isinstance(item, dict) else item)
        label = str(item.get("label", value) if isinstance(item, dict) else item)
        dept = ref.departments.get(value)
        result.append((value, pick(label, dept.name_en if dept else None)))
    return result


def _display_value(f: FormField, raw: Any) -> Any:
    """A raw submitted value as the hide-if evaluation sees it."""
    if f.type == "checkbox":
        return raw is True or (isinstance(raw, str) and raw.lower() in _TRUE)
    if isinstance(raw, str):
        return raw.strip() or None
    return raw


def field_views(form: FormSpec, values: dict[str, Any], errors: dict[str, str],
                options: dict[str, list[Any]]) -> list[dict[str, Any]]:
    context = {i.key: _display_value(i, values.get(i.key)) for i in form.fields}
    views = []
    for f in form.components:  # display-only components too (text, spacer…)
        view: dict[str, Any] = {"f": f, "label": pick(f.label, f.label_en), "hidden": False}
        if f.key is not None:
            value = values.get(f.key)
            if f.is_list:
                if isinstance(value, str):
                    value = [v for v in value.split(",") if v]
                value = value or []
            view.update(value=value, error=errors.get(f.key),
                        hidden=bool(f.hide_if and f.hide_if.evaluate(context)))
            if f.type in ("radio", "select", "checklist"):
                view["choices"] = choices_for(f, options)
        views.append(view)
    return views


def submitted_data(form: FormSpec, actor_name: str, stage: str,
                   fresh: set[str] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's keys from the request (lists for multi-value fields); files sent with the form are
    stored in the request's transaction, so a refused completion does not keep them."""
    data: dict[str, Any] = {}
    upload_errors: dict[str, str] = {}
    fresh = fresh if fresh is not None else set()
    for f in form.fields:
        key = f.key
        assert key is not None
        if f.readonly:
            continue
        if f.type == "checklist":
            picked = request.form.getlist(key)
            if picked:
                data[key] = picked
        elif f.type == "filepicker":
            tokens = [t for t in request.form.get(key, "").split(",") if t.strip()]
            files = [fs for fs in request.files.getlist(f"{key}__files") if fs and fs.filename]
            try:  # stored in the request's transaction: kept only if the completion is
                for fs in files:
                    token = store_upload(get_session(), fs, stage, actor_name, config()["UPLOAD_MAX_BYTES"], now()).token
                    tokens.append(token)
                    fresh.add(token)
            except ValidationError as exc:
                upload_errors[key] = upload_message(exc)
            data[key] = tokens
        elif key in request.form:
            data[key] = request.form.get(key)
    return data, upload_errors


DUPLICATE_STEPS = ("verify", "accept", "file")


def _render(row: Any, case: CaseRecord, form: FormSpec, values: dict[str, Any], errors: dict[str, str],
            version: int, conflict: bool = False, message: str | None = None, status: int = 200):
    session = get_session()
    ref = refdata.reference(session)
    options = form_options(session, row.spec_id)
    instant = now()
    deadline = None
    if getattr(row, "due_at", None) is not None:
        from engine.calendar import get_calendar

        cal = get_calendar(session, config()["TIMEZONE"], config()["WORK_WINDOWS"])
        deadline = {"light": row.light_at(instant), "text": remaining_text(cal, instant, row.due_at, row.natural_time),
                    "due_at": row.due_at}
    return render_template(
        "inbox/task.html", row=row, case=case, decision=decision_view(row.spec_id, case), fields=field_views(form, values, errors, options),
        version=version, conflict=conflict, message=message, errors=errors, deadline=deadline,
        class_name=pick(case.class_name, case.class_name_en),
        district=refdata.region_name(ref, case.district_code), street=refdata.region_name(ref, case.street_code),
        photos=case_photos(session, case.id), stage=upload_stage(row.spec_id),
        **_duplicates(row.spec_id, case)), status


def _duplicates(spec_id: str, case: CaseRecord) -> dict[str, Any]:
    """A new case's steps (verify, accept, file) show similar open cases nearby to merge into."""
    from web.cases.followup import duplicate_candidates

    if spec_id not in DUPLICATE_STEPS or current_actor().role not in MERGERS:
        return {"may_merge": False}
    return {"may_merge": True, "duplicates": duplicate_candidates(case)}


def decision_view(spec_id: str, case: CaseRecord) -> dict[str, Any] | None:
    """What this task decides (the department's request, the work to check…) and the earlier rounds,
    worded with the forms' own labels."""
    session = get_session()
    context = decision_context(session, current_actor(), case, spec_id)
    if context is None:
        return None
    definition = definitions.load(session, case.definition_id)

    def shown(step: Step) -> dict[str, Any]:
        info = definition.user_tasks.get(step.step)
        return {"at": step.at, "who": person(step.actor_name), "round": step.round, "photos": step.photos,
                "step": task_name(step.step, info.name if info else step.step),
                "summary": form_summary(definition, step.step, step.form)}

    return {"request": shown(context.request) if context.request else None,
            "earlier": [shown(s) for s in context.earlier]}


def _defaults(form: FormSpec, task_id: str, options: dict[str, list[Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in form.fields:
        if f.default is not None:
            values[f.key] = "true" if f.default is True else f.default
    for f in form.fields:
        if f.values_key == "department_options":
            suggestion = task_data(get_session(), task_id).get("suggested_department")
            allowed = {(o.get("value") if isinstance(o, dict) else o) for o in options.get(f.values_key, [])}
            if suggestion in allowed:
                values[f.key] = suggestion
    return values


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@role_required(*INBOX_ROLES)
def task_form(task_id: str):
    actor = current_actor()
    session = get_session()
    try:
        view = task_view(session, actor, task_id, acting=True)  # the page's one read and one check
    except NotFound:
        if request.method == "POST":
            return _conflict_without_task()
        raise PageNotFound(_("This task is no longer open: it was completed or the case moved on.")) from None
    row, case, form = view.task, view.case, view.form  # plain values: they survive rollbacks
    if request.method == "GET":
        options = form_options(session, row.spec_id)
        return _render(row, case, form, _defaults(form, row.id, options), {}, case.version)

    done_message = _("Task “%(name)s” of case %(number)s completed.", name=row.name, number=case.number)
    fresh: set[str] = set()
    data, upload_errors = submitted_data(form, actor.username, upload_stage(row.spec_id), fresh)
    expected = _expected_version()
    if upload_errors or expected is None:
        rollback()
        message = None if expected is not None else _("The form is incomplete (its case version is missing). "
                                                       "Reload the task and try again.")
        return _render(row, case, form, _without(data, fresh), upload_errors,
                       expected if expected is not None else case.version, message=message, status=400)
    try:
        complete_task(session, engine_context(), task_id, actor, data, expected_version=expected)
    except ValidationError as exc:
        rollback()
        return _render(row, case, form, _without(data, fresh), field_messages(exc.fields or {}), expected,
                       message=error_message(exc) if not exc.fields else None, status=400)
    except Conflict:
        rollback()
        case = load_case(get_session(), case.id)  # the version someone else's change left
        return _render(row, case, form, _without(data, fresh), {}, case.version, conflict=True, status=409)
    flash(done_message, "success")  # (row is gone now: the command removed the finished task's row)
    return redirect(url_for("inbox.inbox"))


def _expected_version() -> int | None:
    """The case version the form was opened at, or None when missing or not a whole number (refused)."""
    raw = request.form.get("expected_version", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 12 else None


def _without(data: dict[str, Any], fresh: set[str]) -> dict[str, Any]:
    """``data`` without the upload tokens of this request (rolled back with it)."""
    if not fresh:
        return data
    return {k: [t for t in v if t not in fresh] if isinstance(v, list) else v for k, v in data.items()}


def _conflict_without_task():
    """The task vanished before the submit: show what was typed with the conflict message."""
    actor = current_actor()
    session = get_session()
    case = find_case(session, request.form.get("case_number", ""))
    spec_id = request.form.get("spec_id", "")
    if case is None or not may_see_case(actor, case):
        raise PageConflict(_("Someone was faster: the case has already been handled by someone else."))
    definition = definitions.load(session, case.definition_id)
    info = definition.user_tasks.get(spec_id)
    if info is None:
        raise PageConflict(_("Someone was faster: the case has already been handled by someone else."))
    data: dict[str, Any] = {}
    for f in info.form.fields:
        if f.is_list:
            data[f.key] = request.form.getlist(f.key) if f.type == "checklist" else request.form.get(f.key, "")
        elif f.key in request.form:
            data[f.key] = request.form.get(f.key)
    ghost = _GhostRow(request.view_args["task_id"], spec_id, info.name)
    return _render(ghost, case, info.form, data, {}, case.version, conflict=True, status=409)


class _GhostRow:
    """What the conflict page shows of a task that is gone (no row to read any more)."""

    def __init__(self, task_id: str, spec_id: str, name: str, assignee: str | None = None,
                 warn_at: Any = None, due_at: Any = None) -> None:
        self.id, self.spec_id, self.name = task_id, spec_id, name
        self.assignee, self.warn_at, self.due_at = assignee, warn_at, due_at

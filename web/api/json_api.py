"""The staff JSON API at /api/v1: the same actions as the pages, described in openapi.yaml.

Authentication is the signed-in session cookie (``POST /api/v1/login`` starts one). Every request
with a body must be ``application/json`` (see ``web.api.auth``). Errors are
``{"error": message, "fields": {key: message}}`` with the engine error's status (400, 403, 404, 409),
401 when nobody is signed in and 415 for a missing JSON content type.

Every endpoint checks the role (and department/district where they apply) before calling the
engine, which checks again on every command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from engine import second_factor
from engine.commands import assign, claim, complete_task, form_options, release, start_case, supervise
from engine.errors import CityCaseError, Forbidden, ValidationError
from engine.forms import FormField
from engine.model import INBOX_ROLES, OPERATOR_SOURCES
from engine.models import TaskRow, User
from engine.queries import (
    CaseRecord,
    TaskFilters,
    TaskItem,
    case_history,
    case_view,
    check_case_visible,
    decode_cursor,
    load_case,
    task_view,
    visible_tasks,
)
from engine.queries.assignment import assignable_people
from engine.queries.process_data import case_data, task_data
from engine.queries.tasks import Tab
from engine.queries.visibility import assign_refusal
from web.api.auth import ApiError, api_actor, error_payload, json_body
from web.api.bodies import AssignBody, CompleteBody, LoginBody, SuperviseBody, TaskQuery, parse
from web.auth.second_factor import needs_second_factor
from web.auth.throttle import check_account, record_failure
from web.cases.privacy import citizen_private, citizen_private_deep  # phone numbers masked by role
from web.extensions import get_session, limiter, state
from web.security import authenticate, engine_context, now, sign_in, sign_out

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_FILE = Path(__file__).with_name("openapi.yaml")
REPORT_ROLES = ("supervisor", "acceptor", "shift_leader")


# --- errors ---------------------------------------------------------------------------------------

@api_bp.errorhandler(CityCaseError)
def _api_error(exc: CityCaseError):
    body, status = error_payload(exc)
    return jsonify(body), status


@api_bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    status = exc.code or 500
    message = "sign in first: POST /api/v1/login" if status == 401 else (exc.description or exc.name)
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]  # Allow, Retry-After
    return jsonify({"error": message, "fields": {}}), status, headers


# --- serialization ----------------------------------------------------------------------------------

def _tz() -> ZoneInfo:
    return ZoneInfo(state().config.get("TIMEZONE", "Asia/Shanghai"))


def _iso(value: Any) -> str | None:
    return value.astimezone(_tz()).isoformat(timespec="seconds") if value is not None else None


def task_json(task: TaskItem, at: Any) -> dict[str, Any]:
    return {"id": task.id, "case_id": task.case_id, "spec_id": task.spec_id, "name": task.name,
            "role": task.role, "department_code": task.department_code, "district_code": task.district_code,
            "class_code": task.class_code, "source": task.source, "assignee": task.assignee,
            "created_at": _iso(task.created_at), "warn_at": _iso(task.warn_at), "due_at": _iso(task.due_at),
            "light": task.light_at(at)}


def case_json(case: CaseRecord) -> dict[str, Any]:
    """A case record for staff (the read side never returns the follow-up token or the workflow state)."""
    return {"id": case.id, "number": case.number, "status": case.status, "outcome": case.outcome,
            "source": case.source, "class_code": case.class_code, "class_name": case.class_name,
            "urgency": case.urgency, "grid_code": case.grid_code, "community_code": case.community_code,
            "street_code": case.street_code, "district_code": case.district_code, "lon": case.lon,
            "lat": case.lat, "address": case.address, "description": citizen_private(case.description),
            "component_id": case.component_id, "department_code": case.department_code,
            "reporter": citizen_private(case.reporter), "rating": case.rating, "rating_note": case.rating_note,
            "created_at": _iso(case.created_at), "updated_at": _iso(case.updated_at),
            "closed_at": _iso(case.closed_at), "version": case.version}


def field_json(f: FormField, options: dict[str, list[Any]]) -> dict[str, Any]:
    """One form-js input as JSON, with runtime choices resolved from ``options``."""
    if f.values_key:
        choices = [{"value": o["value"], "label": o.get("label", o["value"]), "label_en": o.get("label_en", "")}
                   if isinstance(o, dict) else {"value": str(o), "label": str(o), "label_en": ""}
                   for o in options.get(f.values_key, [])]
    else:
        choices = [{"value": c.value, "label": c.label, "label_en": c.label_en} for c in f.values]
    hide_if = None
    if f.hide_if is not None:
        hide_if = {"key": f.hide_if.key, "op": f.hide_if.op, "value": f.hide_if.value,
                   "expression": f.hide_if.expression}
    return {"key": f.key, "type": f.type, "label": f.label, "label_en": f.label_en, "required": f.required,
            "readonly": f.readonly, "description": f.description, "default": f.default,
            "values_key": f.values_key, "values": choices, "hide_if": hide_if, "min": f.min, "max": f.max,
            "min_length": f.min_length, "max_length": f.max_length, "pattern": f.pattern,
            "subtype": f.subtype, "multiple": f.multiple, "list": f.is_list}


# --- session ----------------------------------------------------------------------------------------------

def _user_json(user: Any) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "department_code": user.department_code, "district_code": user.district_code}


@api_bp.post("/login")
@limiter.limit("10 per minute")
def login():
    body = parse(LoginBody, json_body())
    user = authenticate(body.username, body.password)
    if user is None:
        raise ApiError("wrong user name or password, or the account is disabled", 401)
    if needs_second_factor(user):
        _check_api_code(user, body.code)
    sign_in(user)
    return jsonify({"user": _user_json(user)})


def _check_api_code(user, code: str | None) -> None:
    """The roles with a second factor send the authenticator's code with the password (no pending step)."""
    row = get_session().get(User, int(user.id))
    if row is None or row.totp_secret is None:
        raise ApiError("this role signs in with a second factor: enrol once on the sign-in page first", 403)
    if not code:
        raise ApiError("this role signs in with a second factor: send the authenticator app's code as code",
                       401, {"code": "required"})
    check_account(user.username)
    if not second_factor.check_code(get_session(), row.id, code, now()):
        record_failure(user.username)
        raise ApiError("the code is wrong or was already used; send the newest code", 401, {"code": "mismatch"})
    get_session().flush()


@api_bp.post("/logout")
def logout():
    json_body(required=False)
    sign_out()
    return jsonify({"signed_out": True})


@api_bp.get("/me")
def me():
    from flask_login import current_user

    api_actor()
    return jsonify({"user": _user_json(current_user)})


@api_bp.get("/openapi.yaml")
def openapi():
    return Response(OPENAPI_FILE.read_bytes(), mimetype="application/yaml")


# --- tasks --------------------------------------------------------------------------------------------------

@api_bp.get("/tasks")
def list_tasks():
    actor = api_actor(INBOX_ROLES)
    query = parse(TaskQuery, request.args.to_dict())
    after = decode_cursor(query.after) if query.after else None
    filters = TaskFilters(tab=Tab(query.scope), class_code=query.class_code, district=query.district,
                          light=query.light)
    at = now()
    page = visible_tasks(get_session(), actor, filters, after, at=at, limit=query.limit)
    return jsonify({"tasks": [task_json(t, at) for t in page.items],
                    "next": page.next.encode() if page.next is not None else None})


@api_bp.get("/tasks/<task_id>")
def get_task(task_id: str):
    actor = api_actor(INBOX_ROLES)
    session = get_session()
    view = task_view(session, actor, task_id)
    options = form_options(session, view.task.spec_id)
    return jsonify({
        "task": task_json(view.task, now()),
        "case": case_json(view.case),
        "version": view.case.version,
        "form": {"id": view.form.id, "fields": [field_json(f, options) for f in view.form.fields]},
        "data": citizen_private_deep(task_data(session, task_id)),
    })


@api_bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str):
    actor = api_actor(INBOX_ROLES)
    take_over = json_body(required=False).get("take_over", False)
    if not isinstance(take_over, bool):
        raise ValidationError("take_over must be true or false", {"take_over": "true or false"})
    return jsonify(claim(get_session(), engine_context(), task_id, actor, take_over=take_over).as_dict())


@api_bp.post("/tasks/<task_id>/release")
def release_task(task_id: str):
    actor = api_actor(INBOX_ROLES)
    json_body(required=False)
    return jsonify(release(get_session(), engine_context(), task_id, actor).as_dict())


@api_bp.post("/tasks/<task_id>/assign")
def assign_task(task_id: str):
    """A department leader gives the task to a named person of the department (or moves it)."""
    actor = api_actor(("leader",))
    body = parse(AssignBody, json_body())
    return jsonify(assign(get_session(), engine_context(), task_id, actor, body.assignee, body.reason,
                          expected_assignee=body.expected_assignee).as_dict())


@api_bp.get("/tasks/<task_id>/assignees")
def task_assignees(task_id: str):
    """Who the department leader may give the task to: the department's active people of the task's role."""
    actor = api_actor(("leader",))
    session = get_session()
    row = session.get(TaskRow, task_id)
    if row is None:
        raise ApiError(f"no open task {task_id}", 404)
    refusal = assign_refusal(actor, row)
    if refusal is not None:
        raise ApiError(refusal, 403)
    people = assignable_people(session, row.department_code).get(row.role, [])
    return jsonify({"task_id": row.id, "assignee": row.assignee,
                    "people": [{"username": p.username, "display_name": p.display_name} for p in people]})


@api_bp.post("/tasks/<task_id>/complete")
def complete(task_id: str):
    actor = api_actor(INBOX_ROLES)
    body = parse(CompleteBody, json_body())
    return jsonify(complete_task(get_session(), engine_context(), task_id, actor, body.data,
                                 expected_version=body.version).as_dict())


# --- cases --------------------------------------------------------------------------------------------------

@api_bp.post("/cases")
def create_case():
    actor = api_actor(REPORT_ROLES)
    report = dict(json_body())
    if actor.role == "supervisor":
        report.setdefault("source", "supervisor")
        if report["source"] != "supervisor":
            raise Forbidden("supervisors report as source supervisor")
    else:
        if report.get("source") not in OPERATOR_SOURCES:
            raise ValidationError(f"source must be one of {', '.join(OPERATOR_SOURCES)}",
                                  {"source": " | ".join(OPERATOR_SOURCES)})
        if report.get("self_handled"):
            raise Forbidden("only a supervisor can report a problem as fixed on the spot (自处理)")
    result = start_case(get_session(), engine_context(), report, actor)
    response = jsonify(result.as_dict())
    response.status_code = 201
    response.headers["Location"] = f"{api_bp.url_prefix}/cases/{result.number}"
    return response


@api_bp.get("/cases/<number>")
def get_case(number: str):
    actor = api_actor()
    session = get_session()
    view = case_view(session, actor, number)
    at = now()
    history = [{"seq": e.seq, "at": _iso(e.at), "actor": e.actor, "kind": e.kind, "task_id": e.task_id,
                "task_spec": e.task_spec, "data": e.data, "hash": e.hash}
               for e in case_history(session, actor, view.case)]
    return jsonify({"case": case_json(view.case), "data": citizen_private_deep(case_data(session, view.case.id)),
                    "tasks": [task_json(t, at) for t in view.tasks], "history": citizen_private_deep(history)})


@api_bp.post("/cases/<number>/supervise")
def supervise_case(number: str):
    actor = api_actor(("leader",))
    raw = json_body()  # the content-type check comes first (the API's CSRF defence)
    session = get_session()
    case = load_case(session, number)
    check_case_visible(actor, case)
    body = parse(SuperviseBody, raw)
    return jsonify(supervise(session, engine_context(), case.id, actor, body.level, body.text).as_dict())


__all__ = ["api_bp", "task_json", "case_json", "field_json"]

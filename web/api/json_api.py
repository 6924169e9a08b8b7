"""The staff JSON API at /api/v1: the same actions as the pages, described in openapi.yaml.

Authentication is the signed-in session cookie (``POST /api/v1/login`` starts one). Every request
with a body must be ``application/json`` (see ``web.api.auth``). Errors are
``{"error": message, "fields": {key: message}}`` with the engine error's status (400, 403, 404, 409),
401 when nobody is signed in and 415 for a missing JSON content type.

Every endpoint checks the role (and department/district where they apply) before calling the
engine, which checks again on every command.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from flask import Blueprint, Response, jsonify, request
from sqlalchemy import and_, or_, select
from werkzeug.exceptions import HTTPException

from engine import definitions
from engine.commands import claim, complete_task, form_options, release, start_case, supervise
from engine.errors import CityCaseError, Forbidden, NotFound, ValidationError
from engine.forms import FormField
from engine.model import Actor
from engine.models import Case, Event, ProblemClass, TaskRow
from engine.queries.visibility import check_task_visible
from web.api.auth import ApiError, api_actor, error_payload, json_body
from web.extensions import get_session, limiter, state
from web.security import INBOX_ROLES, authenticate, engine_context, may_see_case, now, sign_in, sign_out

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

OPENAPI_FILE = Path(__file__).with_name("openapi.yaml")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
REPORT_ROLES = ("supervisor", "acceptor", "shift_leader")
# Sources a centre operator may register for others; supervisors report as themselves.
OPERATOR_SOURCES = ("citizen", "hotline", "camera", "sensor")
DEPARTMENT_ROLES = ("handler", "leader")


# --- errors ---------------------------------------------------------------------------------------

@api_bp.errorhandler(CityCaseError)
def _api_error(exc: CityCaseError):
    body, status = error_payload(exc)
    return jsonify(body), status


@api_bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    status = exc.code or 500
    message = "sign in first: POST /api/v1/login" if status == 401 else (exc.description or exc.name)
    return jsonify({"error": message, "fields": {}}), status


# --- serialization ----------------------------------------------------------------------------------

def _tz() -> ZoneInfo:
    return ZoneInfo(state().config.get("TIMEZONE", "Asia/Shanghai"))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(_tz()).isoformat(timespec="seconds") if value is not None else None


def light(warn_at: datetime | None, due_at: datetime | None, at: datetime) -> str:
    """green before warn_at (< 80 % of the limit), yellow until due_at, red from due_at on."""
    if due_at is not None and at >= due_at:
        return "red"
    if warn_at is not None and at >= warn_at:
        return "yellow"
    return "green"


def task_json(row: Any, at: datetime) -> dict[str, Any]:
    return {"id": row.id, "case_id": row.case_id, "spec_id": row.spec_id, "name": row.name, "role": row.role,
            "department_code": row.department_code, "district_code": row.district_code,
            "class_code": row.class_code, "source": row.source, "assignee": row.assignee,
            "created_at": _iso(row.created_at), "warn_at": _iso(row.warn_at), "due_at": _iso(row.due_at),
            "light": light(row.warn_at, row.due_at, at)}


def case_json(case: Case, class_name: str | None) -> dict[str, Any]:
    """A case record for staff (never the public follow-up token or the workflow state)."""
    return {"id": case.id, "number": case.number, "status": case.status, "outcome": case.outcome,
            "source": case.source, "class_code": case.class_code, "class_name": class_name,
            "urgency": case.urgency, "grid_code": case.grid_code, "community_code": case.community_code,
            "street_code": case.street_code, "district_code": case.district_code, "lon": case.lon,
            "lat": case.lat, "address": case.address, "description": case.description,
            "component_id": case.component_id, "department_code": case.department_code,
            "reporter": case.reporter, "rating": case.rating, "rating_note": case.rating_note,
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


def _workflow(session, case: Case):
    """The case's workflow restored from its stored state (read-only use; never saved from here)."""
    from engine.services import SCRIPT_ENGINE
    from engine.state import load_state

    definition = definitions.load(session, case.definition_id)
    workflow, _ids = load_state(case.state, definition.spec, definition.subprocess_specs, SCRIPT_ENGINE)
    return definition, workflow


def _json_native(data: Any) -> dict[str, Any]:
    """Process variables as JSON (anything that is not JSON-native becomes its string form)."""
    if not isinstance(data, dict):
        return {}
    return orjson.loads(orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS))


def _task_data(workflow, task_id: str) -> dict[str, Any]:
    from uuid import UUID

    task = workflow.get_task_from_id(UUID(task_id))
    return _json_native(task.data) if task is not None else {}


def _case_variables(workflow) -> dict[str, Any]:
    """The freshest process variables, as the engine computes them for the case record."""
    from SpiffWorkflow.util.task import TaskState

    if workflow.is_completed():
        return _json_native(workflow.data or (workflow.last_task.data if workflow.last_task else {}))
    live = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
    if not live:
        return _json_native(workflow.last_task.data if workflow.last_task else {})
    return _json_native(max(live, key=lambda t: t.last_state_change).data)


# --- authorization helpers ------------------------------------------------------------------------------

def _case_by_number(session, number: str) -> Case:
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise NotFound(f"case {number} does not exist")
    return case


def _visible_case(session, actor: Actor, number: str) -> Case:
    case = _case_by_number(session, number)
    if not may_see_case(actor, case):
        raise Forbidden(f"case {number} is outside your department or area")
    return case


# --- session ----------------------------------------------------------------------------------------------

def _user_json(user: Any) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "department_code": user.department_code, "district_code": user.district_code}


@api_bp.post("/login")
@limiter.limit("10 per minute")
def login():
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise ValidationError("username and password are required",
                              {k: "required" for k in ("username", "password") if not body.get(k)})
    user = authenticate(username, password)
    if user is None:
        raise ApiError("wrong user name or password, or the account is disabled", 401)
    sign_in(user)
    return jsonify({"user": _user_json(user)})


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

def _encode_cursor(row: Any) -> str:
    raw = orjson.dumps([row.due_at.isoformat() if row.due_at else None, row.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime | None, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, task_id = orjson.loads(raw)
        if not isinstance(task_id, str) or (due is not None and not isinstance(due, str)):
            raise ValueError
        due_at = datetime.fromisoformat(due) if due else None
        if due_at is not None and due_at.tzinfo is None:
            raise ValueError
        return due_at, task_id
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ValidationError("after is not a cursor from a previous page", {"after": "invalid cursor"}) from None


def _scope_conditions(actor: Actor, scope: str) -> list[Any]:
    """The inbox rule: my role, my department (handlers, leaders), my district (supervisors)."""
    conds: list[Any] = [TaskRow.role == actor.role]
    if actor.role in DEPARTMENT_ROLES:
        conds.append(TaskRow.department_code == actor.department_code if actor.department_code
                     else TaskRow.department_code.is_(None))
    if actor.role == "supervisor" and actor.district_code:
        conds.append(TaskRow.district_code == actor.district_code)
    if scope == "mine":
        conds.append(TaskRow.assignee == actor.username)
    elif scope == "group":
        conds.append(TaskRow.assignee.is_(None))
    else:
        conds.append(or_(TaskRow.assignee.is_(None), TaskRow.assignee == actor.username))
    return conds


def _light_condition(value: str, at: datetime) -> Any:
    if value == "red":
        return and_(TaskRow.due_at.is_not(None), TaskRow.due_at <= at)
    if value == "yellow":
        return and_(TaskRow.warn_at.is_not(None), TaskRow.warn_at <= at,
                    or_(TaskRow.due_at.is_(None), TaskRow.due_at > at))
    return and_(or_(TaskRow.warn_at.is_(None), TaskRow.warn_at > at),
                or_(TaskRow.due_at.is_(None), TaskRow.due_at > at))


@api_bp.get("/tasks")
def list_tasks():
    actor = api_actor(INBOX_ROLES)
    args = request.args
    errors: dict[str, str] = {}
    scope = args.get("scope", "all")
    if scope not in ("all", "mine", "group"):
        errors["scope"] = "all | mine | group"
    light_value = args.get("light")
    if light_value is not None and light_value not in ("green", "yellow", "red"):
        errors["light"] = "green | yellow | red"
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError
    except ValueError:
        errors["limit"] = f"a whole number from 1 to {MAX_LIMIT}"
        limit = DEFAULT_LIMIT
    if errors:
        raise ValidationError("invalid filters: " + "; ".join(f"{k}: {v}" for k, v in errors.items()), errors)
    at = now()
    conds = _scope_conditions(actor, scope)
    if args.get("class"):
        conds.append(TaskRow.class_code == args["class"])
    if args.get("district"):
        conds.append(TaskRow.district_code == args["district"])
    if light_value:
        conds.append(_light_condition(light_value, at))
    if args.get("after"):
        due, last_id = _decode_cursor(args["after"])
        if due is None:
            conds.append(and_(TaskRow.due_at.is_(None), TaskRow.id > last_id))
        else:
            conds.append(or_(TaskRow.due_at > due, and_(TaskRow.due_at == due, TaskRow.id > last_id),
                             TaskRow.due_at.is_(None)))
    rows = list(get_session().execute(
        select(TaskRow.id, TaskRow.case_id, TaskRow.spec_id, TaskRow.name, TaskRow.role, TaskRow.department_code,
               TaskRow.district_code, TaskRow.class_code, TaskRow.source, TaskRow.assignee, TaskRow.created_at,
               TaskRow.warn_at, TaskRow.due_at)
        .where(*conds).order_by(TaskRow.due_at.asc().nulls_last(), TaskRow.id.asc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"tasks": [task_json(r, at) for r in rows],
                    "next": _encode_cursor(rows[-1]) if more and rows else None})


def _task_or_404(session, task_id: str) -> TaskRow:
    row = session.get(TaskRow, task_id)
    if row is None:
        raise NotFound(f"task {task_id} is not open (it was completed, or the case moved on)")
    return row


@api_bp.get("/tasks/<task_id>")
def get_task(task_id: str):
    actor = api_actor(INBOX_ROLES)
    session = get_session()
    row = _task_or_404(session, task_id)
    check_task_visible(actor, row)
    case = session.get(Case, row.case_id)
    definition, workflow = _workflow(session, case)
    info = definition.user_tasks[row.spec_id]
    options = form_options(session, row.spec_id)
    class_name = session.scalar(select(ProblemClass.name).where(ProblemClass.code == case.class_code))
    return jsonify({
        "task": task_json(row, now()),
        "case": case_json(case, class_name),
        "version": case.version,
        "form": {"id": info.form.id, "fields": [field_json(f, options) for f in info.form.fields]},
        "data": _task_data(workflow, row.id),
    })


@api_bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str):
    actor = api_actor(INBOX_ROLES)
    json_body(required=False)
    return jsonify(claim(get_session(), engine_context(), task_id, actor).as_dict())


@api_bp.post("/tasks/<task_id>/release")
def release_task(task_id: str):
    actor = api_actor(INBOX_ROLES)
    json_body(required=False)
    return jsonify(release(get_session(), engine_context(), task_id, actor).as_dict())


@api_bp.post("/tasks/<task_id>/complete")
def complete(task_id: str):
    actor = api_actor(INBOX_ROLES)
    body = json_body()
    data = body.get("data", {})
    version = body.get("version")
    unknown = set(body) - {"data", "version"}
    errors: dict[str, str] = {k: "unknown field; send data and version" for k in unknown}
    if not isinstance(data, dict):
        errors["data"] = "must be an object of form values"
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        errors["version"] = "must be the case version (a whole number) from GET /tasks/{id}"
    if errors:
        raise ValidationError("invalid request: " + "; ".join(f"{k}: {v}" for k, v in errors.items()), errors)
    return jsonify(complete_task(get_session(), engine_context(), task_id, actor, data,
                                 expected_version=version).as_dict())


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
    case = _visible_case(session, actor, number)
    class_name = session.scalar(select(ProblemClass.name).where(ProblemClass.code == case.class_code))
    at = now()
    tasks = session.scalars(select(TaskRow).where(TaskRow.case_id == case.id).order_by(TaskRow.created_at,
                                                                                          TaskRow.id))
    events = session.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.seq))
    history = [{"seq": e.seq, "at": _iso(e.at), "actor": e.actor, "kind": e.kind, "task_id": e.task_id,
                "task_spec": e.task_spec, "data": orjson.loads(e.data) if e.data else {}, "hash": e.hash}
               for e in events]
    _definition, workflow = _workflow(session, case)
    return jsonify({"case": case_json(case, class_name), "data": _case_variables(workflow),
                    "tasks": [task_json(t, at) for t in tasks], "history": history})


@api_bp.post("/cases/<number>/supervise")
def supervise_case(number: str):
    actor = api_actor(("leader",))
    body = json_body()
    session = get_session()
    case = _visible_case(session, actor, number)
    level, text_ = body.get("level"), body.get("text")
    if not isinstance(level, str) or not isinstance(text_, str):
        raise ValidationError("level (remind | order) and text are required",
                              {k: "required" for k in ("level", "text") if not isinstance(body.get(k), str)})
    return jsonify(supervise(session, engine_context(), case.id, actor, level, text_).as_dict())


__all__ = ["api_bp", "light", "task_json", "case_json", "field_json"]

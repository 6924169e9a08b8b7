"""Open311 GeoReport v2 at /open311/v2 (XML required by the spec, JSON too).

* ``GET services.{fmt}`` — one service per active problem class (service_code = class code).
* ``GET services/{code}.{fmt}`` — its service definition (no extra attributes).
* ``POST requests.{fmt}`` — form-encoded; ``api_key`` required (403), ``service_code`` and
  ``lat``/``long`` required (we locate the grid cell by point, so an address alone is refused with
  400). The case is created synchronously (source ``open311``), so the answer carries the
  ``service_request_id`` (the case number) at once, plus the request's ``token``.
* ``GET tokens/{token}.{fmt}`` — the service_request_id of a token.
* ``GET requests.{fmt}`` — filters service_request_id (comma list, overrides the rest), service_code,
  start_date, end_date (at most 90 days apart; default the last 90 days), status (open|closed);
  newest first, at most 1,000.
* ``GET requests/{id}.{fmt}`` — one request.

Errors are ``[{"code": 400, "description": "…"}]`` (JSON) or ``<errors><error>…`` (XML) with the same
HTTP status (400, 403, 404). Times are ISO 8601 with the city's UTC offset.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from engine.commands import start_case
from engine.errors import CityCaseError
from engine.model import Actor
from engine.models import Case, Department, ProblemClass, TaskRow
from web.api.auth import open311_key
from web.api.publication import Publication
from web.extensions import get_session, limiter, state
from web.security import engine_context, now

open311_bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMATS = "any(json,xml)"
MAX_RESULTS = 1000
DEFAULT_DAYS = 90
CLOSED_STATUSES = ("closed", "voided", "invalid", "merged")
OPEN_STATUSES = ("open", "suspended")
STATUS_NOTES = {"closed": "已结案", "voided": "已作废", "invalid": "无效案件", "merged": "重复上报，已与原案卷合并"}
# Characters XML 1.0 cannot carry even escaped (C0 controls except tab, newline, carriage return).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
POST_RATE = "30 per minute"


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


# --- serializers (pure) -----------------------------------------------------------------------------

def iso(value: datetime | None, tz: str) -> str | None:
    """ISO 8601 with the city's offset, e.g. ``2026-11-25T09:00:00+08:00``."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def service_dict(pc: ProblemClass) -> dict[str, Any]:
    kind = "部件" if pc.kind == "component" else "事件"
    description = f"{kind} · {pc.major_name} · {pc.name}"
    if pc.name_en:
        description += f" ({pc.name_en})"
    keywords = ",".join(k for k in (pc.name, pc.name_en, pc.major_name, kind, pc.kind) if k)
    return {"service_code": pc.code, "service_name": pc.name, "description": description,
            "metadata": False, "type": "realtime", "keywords": keywords, "group": pc.major_name}


def service_definition(pc: ProblemClass) -> dict[str, Any]:
    return {"service_code": pc.code, "attributes": []}


def status_of(case_status: str) -> str:
    return "closed" if case_status in CLOSED_STATUSES else "open"


def status_notes(case_status: str, steps: list[str]) -> str:
    if case_status in STATUS_NOTES:
        return STATUS_NOTES[case_status]
    where = "、".join(sorted(set(steps)))
    prefix = "已挂账" if case_status == "suspended" else "处置中"
    return f"{prefix}：{where}" if where else prefix


def request_dict(case: Any, *, service_name: str | None, agency: str | None, steps: list[str],
                 expected: datetime | None, tz: str) -> dict[str, Any]:
    """One service request as GeoReport v2 fields (the public view: no reporter, no token)."""
    return {
        "service_request_id": case.number,
        "status": status_of(case.status),
        "status_notes": status_notes(case.status, steps),
        "service_name": service_name,
        "service_code": case.class_code,
        "description": case.description,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": iso(case.created_at, tz),
        "updated_datetime": iso(case.updated_at, tz),
        "expected_datetime": iso(expected, tz) if status_of(case.status) == "open" else None,
        "address": case.address,
        "address_id": None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": None,
    }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_INVALID.sub("", str(value))


def _fill(parent: ET.Element, key: str, value: Any) -> None:
    if isinstance(value, list):
        holder = ET.SubElement(parent, key)
        child = key[:-1] if key.endswith("s") else "item"
        for item in value:
            _fill(holder, child, item)
        return
    el = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _fill(el, k, v)
    else:
        el.text = _text(value)


def to_xml(root: str, item: str | None, payload: Any) -> bytes:
    """``<root><item>…</item>…</root>`` (a list) or ``<root>…</root>`` (an object), UTF-8 with declaration."""
    el = ET.Element(root)
    if isinstance(payload, list):
        for entry in payload:
            _fill(el, item or "item", entry)
    else:
        for k, v in payload.items():
            _fill(el, k, v)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(el, encoding="unicode").encode("utf-8")


def errors_payload(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


def render(fmt: str, root: str, item: str | None, payload: Any, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, item, payload), status=status, mimetype="text/xml",
                        content_type="text/xml; charset=utf-8")
    response = jsonify(payload)
    response.status_code = status
    return response


def render_error(fmt: str, code: int, description: str) -> Response:
    return render(fmt, "errors", "error", errors_payload(code, description), code)


# --- helpers --------------------------------------------------------------------------------------------

def _tz() -> str:
    return state().config.get("TIMEZONE", "Asia/Shanghai")


def _active_class(session, code: str) -> ProblemClass:
    pc = session.get(ProblemClass, code) if code else None
    if pc is None or not pc.active or not _publication().is_public(pc.code):
        raise Open311Error(404, f"service_code {code!r} was not found")
    return pc


def _parse_date(name: str, raw: str, tz: str) -> datetime:
    text = raw.strip()
    # An unencoded "+" in a query string arrives as a space: "…T09:00:00 08:00".
    text = re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$", r"\1+\2", text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time like 2026-11-25T09:00:00+08:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value


def _serialize(session, cases: list[Any], tz: str) -> list[dict[str, Any]]:
    """GeoReport fields for cases, with three set queries (no per-case reads)."""
    if not cases:
        return []
    codes = {c.class_code for c in cases}
    names = dict(session.execute(select(ProblemClass.code, ProblemClass.name)
                                 .where(ProblemClass.code.in_(codes))).all())
    depts = {c.department_code for c in cases if c.department_code}
    agencies = dict(session.execute(select(Department.code, Department.name)
                                    .where(Department.code.in_(depts))).all()) if depts else {}
    steps: dict[int, list[str]] = {}
    expected: dict[int, datetime] = {}
    open_ids = [c.id for c in cases if c.status in OPEN_STATUSES]
    for chunk_start in range(0, len(open_ids), 500):
        chunk = open_ids[chunk_start:chunk_start + 500]
        for row in session.execute(select(TaskRow.case_id, TaskRow.spec_id, TaskRow.name, TaskRow.due_at)
                                   .where(TaskRow.case_id.in_(chunk))):
            steps.setdefault(row.case_id, []).append(row.name)
            if row.spec_id == "handle" and row.due_at is not None:
                current = expected.get(row.case_id)
                expected[row.case_id] = row.due_at if current is None else min(current, row.due_at)
    published = _publication()  # what the city chose to publish (web.api.publication)
    return [published.apply(request_dict(c, service_name=names.get(c.class_code),
                                          agency=agencies.get(c.department_code) if c.department_code else None,
                                          steps=steps.get(c.id, []), expected=expected.get(c.id), tz=tz))
            for c in cases]


def _publication() -> Publication:
    return Publication.from_config(state().config)


_CASE_COLUMNS = (Case.id, Case.number, Case.status, Case.class_code, Case.description, Case.department_code,
                 Case.created_at, Case.updated_at, Case.address, Case.lat, Case.lon)


@open311_bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error):
    return render_error(request.view_args.get("fmt", "xml") if request.view_args else "xml", exc.code,
                        exc.description)


@open311_bp.errorhandler(CityCaseError)
def _engine_error(exc: CityCaseError):
    code = exc.http_status if exc.http_status in (400, 403, 404) else 400
    return render_error(request.view_args.get("fmt", "xml") if request.view_args else "xml", code, str(exc))


# --- routes ---------------------------------------------------------------------------------------------

@open311_bp.get(f"/services.<{FORMATS}:fmt>")
def services(fmt: str):
    session = get_session()
    rows = session.scalars(select(ProblemClass).where(ProblemClass.active.is_(True))
                           .order_by(ProblemClass.code))
    published = _publication()
    return render(fmt, "services", "service", [service_dict(pc) for pc in rows if published.is_public(pc.code)])


@open311_bp.get(f"/services/<code>.<{FORMATS}:fmt>")
def service(code: str, fmt: str):
    pc = _active_class(get_session(), code)
    return render(fmt, "service_definition", None, service_definition(pc))


def _float(name: str, raw: str | None) -> float | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number (WGS-84 decimal degrees)") from None


def _clean_text(value: str | None) -> str:
    """Citizen text without control characters (they cannot travel in XML 1.0)."""
    return _XML_INVALID.sub("", value or "").strip()


def _reporter(form) -> str:
    name = " ".join(p for p in (_clean_text(form.get("first_name")), _clean_text(form.get("last_name"))) if p)
    parts = [p for p in (name, _clean_text(form.get("email")), _clean_text(form.get("phone"))) if p]
    return " / ".join(parts)[:100]


def _create_request(fmt: str):
    session = get_session()
    key = open311_key(session)
    if key is None:
        raise Open311Error(403, "api_key was not provided or is not valid")
    form = request.form
    code = (form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code was not provided")
    _active_class(session, code)
    lat, lon = _float("lat", form.get("lat")), _float("long", form.get("long"))
    if lat is None or lon is None:
        if (form.get("address_string") or form.get("address_id") or "").strip():
            raise Open311Error(400, "location required: send lat and long (we locate requests by point; "
                                    "address_string alone is not geocoded)")
        raise Open311Error(400, "location required: lat and long were not provided")
    description = _clean_text(form.get("description"))
    report = {"source": "open311", "class_code": code, "lon": lon, "lat": lat, "description": description,
              "address": _clean_text(form.get("address_string"))[:200],
              "reporter": _reporter(form) or f"open311:{key.name}"[:100]}
    actor = Actor(f"open311:{key.name}"[:64], "citizen")
    result = start_case(session, engine_context(), report, actor)
    token = session.scalar(select(Case.public_token).where(Case.id == result.case_id))
    notice = f"已受理，案件编号 {result.number} / received as case {result.number}"
    return render(fmt, "service_requests", "request",
                  [{"service_request_id": result.number, "token": token, "service_notice": notice,
                    "account_id": None}])


@open311_bp.post(f"/requests.<{FORMATS}:fmt>")
@limiter.limit(POST_RATE)
def create_request(fmt: str):
    return _create_request(fmt)


@open311_bp.get(f"/tokens/<token>.<{FORMATS}:fmt>")
def token_lookup(token: str, fmt: str):
    number = get_session().scalar(select(Case.number).where(Case.public_token == token)) if token else None
    if number is None:
        raise Open311Error(404, "token was not found")
    return render(fmt, "service_requests", "request", [{"service_request_id": number, "token": token}])


@open311_bp.get(f"/requests.<{FORMATS}:fmt>")
def list_requests(fmt: str):
    session = get_session()
    tz = _tz()
    args = request.args
    ids_raw = (args.get("service_request_id") or "").strip()
    query = select(*_CASE_COLUMNS)
    if ids_raw:
        ids = [i.strip() for i in ids_raw.split(",") if i.strip()]
        if len(ids) > MAX_RESULTS:
            raise Open311Error(400, f"at most {MAX_RESULTS} service_request_id values")
        query = query.where(Case.number.in_(ids))
    else:
        end = _parse_date("end_date", args["end_date"], tz) if args.get("end_date") else now()
        start = (_parse_date("start_date", args["start_date"], tz) if args.get("start_date")
                 else end - timedelta(days=DEFAULT_DAYS))
        if start > end:
            raise Open311Error(400, "start_date is after end_date")
        if end - start > timedelta(days=DEFAULT_DAYS):
            raise Open311Error(400, f"start_date and end_date may not span more than {DEFAULT_DAYS} days")
        query = query.where(Case.created_at >= start, Case.created_at <= end)
        codes = [c.strip() for c in (args.get("service_code") or "").split(",") if c.strip()]
        if codes:
            query = query.where(Case.class_code.in_(codes))
        wanted = {s.strip().lower() for s in (args.get("status") or "").split(",") if s.strip()}
        if wanted - {"open", "closed"}:
            raise Open311Error(400, "status must be open or closed (comma-separated)")
        if wanted == {"open"}:
            query = query.where(Case.status.in_(OPEN_STATUSES))
        elif wanted == {"closed"}:
            query = query.where(Case.status.in_(CLOSED_STATUSES))
    public = _publication().classes
    if public is not None:
        query = query.where(Case.class_code.in_(public))
    cases = list(session.execute(query.order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_RESULTS)))
    return render(fmt, "service_requests", "request", _serialize(session, cases, tz))


@open311_bp.get(f"/requests/<number>.<{FORMATS}:fmt>")
def get_request(number: str, fmt: str):
    session = get_session()
    case = session.execute(select(*_CASE_COLUMNS).where(Case.number == number)).first()
    if case is None or not _publication().is_public(case.class_code):
        raise Open311Error(404, f"service_request_id {number!r} was not found")
    return render(fmt, "service_requests", "request", _serialize(session, [case], _tz()))


__all__ = ["open311_bp", "service_dict", "service_definition", "request_dict", "to_xml", "iso", "status_notes"]

"""Checking a report before it becomes a case: its shape (a pydantic model) and its meaning
(a known, active problem class; a location inside the city's grid or a registered component).

Field messages are short fixed phrases (``MESSAGES``) so the web layer can translate them;
``ValidationError.fields`` maps each bad field to its phrase. Also the reporter commitment the
start event carries instead of the reporter's personal data.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from pydantic import ValidationError as ShapeError
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.fastsql import SELECT_CLASS, Writer
from engine.geo import Location, check_lon_lat, component_location, get_locator
from engine.model import Source, Urgency

# The phrases a field can be refused with (keys for translation).
UNKNOWN_FIELD = "unknown field"
NOT_ALLOWED = "not one of the allowed values"
TOO_LONG = "too long"
WRONG_TYPE = "wrong type"
LOCATION_REQUIRED = "a location (lon and lat) or a component_id is required"
UNKNOWN_CLASS = "unknown problem class"
SUPERVISOR_ONLY = "only a supervisor can report a problem as fixed on the spot"
MESSAGES = (UNKNOWN_FIELD, NOT_ALLOWED, TOO_LONG, WRONG_TYPE, LOCATION_REQUIRED, UNKNOWN_CLASS, SUPERVISOR_ONLY)


class ReportBody(BaseModel):
    """The shape of a report as the API, the CLI and the pages submit it."""

    model_config = ConfigDict(extra="forbid")

    source: Source
    class_code: StrictStr | None = None
    urgency: Urgency | None = None
    lon: Any = None  # numbers or numeric text; checked by geo.check_lon_lat
    lat: Any = None
    component_id: StrictStr | None = None
    description: StrictStr = Field("", max_length=2000)
    address: StrictStr = Field("", max_length=200)
    reporter: StrictStr = Field("", max_length=100)
    self_handled: StrictBool = False
    photos: list[StrictStr] = []


_PHRASES = {"extra_forbidden": UNKNOWN_FIELD, "enum": NOT_ALLOWED, "literal_error": NOT_ALLOWED,
            "string_too_long": TOO_LONG, "missing": NOT_ALLOWED}


@dataclass(frozen=True)
class CheckedReport:
    source: Source
    class_code: str
    urgency: Urgency
    lon: float
    lat: float
    location: Location
    component_id: str | None
    description: str
    address: str
    reporter: str
    self_handled: bool
    photos: tuple[str, ...]


def _shape(report: Any) -> tuple[ReportBody | None, dict[str, str]]:
    if not isinstance(report, dict):
        raise ValidationError("a report must be a JSON object")
    try:
        return ReportBody.model_validate(report), {}
    except ShapeError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else "report"
            errors.setdefault(key, _PHRASES.get(err["type"], WRONG_TYPE))
        return None, errors


def check_report(session: Session, report: Any) -> CheckedReport:
    """The report checked and completed (class from the component, urgency from the class)."""
    body, errors = _shape(report)
    data = body.model_dump() if body else {k: report.get(k) for k in ReportBody.model_fields if k not in errors}
    location = None
    lon = lat = None
    class_code = data.get("class_code")
    if data.get("component_id"):
        component, location = component_location(session, data["component_id"])
        class_code = class_code or component.class_code
        lon, lat = component.lon, component.lat
    elif data.get("lon") is None or data.get("lat") is None:
        errors.setdefault("lon", LOCATION_REQUIRED)
    else:
        lon, lat = check_lon_lat(data["lon"], data["lat"])
        location = get_locator(session, max_age=5.0).locate(lon, lat)
    pclass = Writer(session).one(SELECT_CLASS, {"code": class_code}) if isinstance(class_code, str) else None
    if (pclass is None or not pclass.active) and "class_code" not in errors:
        errors["class_code"] = UNKNOWN_CLASS
    if body is not None and body.self_handled and body.source != Source.SUPERVISOR:
        errors["self_handled"] = SUPERVISOR_ONLY
    if errors or body is None:
        raise ValidationError("the report is not valid: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                              errors)
    assert location is not None and pclass is not None and lon is not None and lat is not None
    return CheckedReport(body.source, pclass.code, body.urgency or Urgency(pclass.urgency), lon, lat, location,
                         body.component_id, body.description, body.address, body.reporter, body.self_handled,
                         tuple(body.photos))


def new_salt() -> str:
    return secrets.token_hex(16)


def reporter_commitment(salt: str | None, reporter: str) -> str | None:
    """sha256(salt ‖ reporter): binds the event to the reporter without holding their data."""
    if not salt or not reporter:
        return None
    return hashlib.sha256(bytes.fromhex(salt) + reporter.encode()).hexdigest()

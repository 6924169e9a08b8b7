"""start_case: file a report as a new case on the latest definition and run it to its first wait."""

from __future__ import annotations

import secrets
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import definitions
from engine.commands.frame import CommandFrame, Outcome, updated
from engine.commands.report import CheckedReport, check_report, new_salt, reporter_commitment
from engine.commands.results import CaseResult
from engine.commands.steps import apply_start
from engine.errors import ValidationError
from engine.fastsql import INSERT_CASE, NEXT_COUNTER
from engine.history import GENESIS
from engine.model import Actor, EngineContext, EventKind
from engine.models import Attachment


def start_case(session: Session, ctx: EngineContext, report: dict[str, Any], actor: Actor) -> CaseResult:
    with CommandFrame(session, ctx) as frame:
        r = check_report(session, report)
        definition = definitions.latest(session)
        reporter = r.reporter or actor.username
        salt = new_salt()
        case_id = _insert_case(frame, definition.id, r, reporter, salt)
        photos = attach(session, case_id, list(r.photos), actor) if r.photos else []
        loaded = frame.new(frame.case(case_id, lock=False), definition)
        initial = _initial(r)
        outcome = Outcome(EventKind.START, actor.username,
                          data={"initial": initial, "report": _event_report(r, photos),
                                "reporter_commitment": reporter_commitment(salt, reporter)})
        frame.run(loaded, outcome, lambda wf: apply_start(wf, initial))
        return frame.save(loaded, outcome)


def _initial(r: CheckedReport) -> dict[str, Any]:
    """The workflow's start data (replay applies exactly this)."""
    loc = r.location
    return {"source": r.source.value, "class_code": r.class_code, "urgency": r.urgency.value,
            "district_code": loc.district_code, "street_code": loc.street_code, "grid_code": loc.grid_code,
            "self_handled": r.self_handled}


def _event_report(r: CheckedReport, photos: list[str]) -> dict[str, Any]:
    """What was reported, as the case row holds it — minus the reporter (only a commitment)."""
    loc = r.location
    return {"source": r.source.value, "class_code": r.class_code, "urgency": r.urgency.value, "lon": r.lon,
            "lat": r.lat, "address": r.address, "description": r.description, "component_id": r.component_id,
            "grid_code": loc.grid_code, "community_code": loc.community_code, "street_code": loc.street_code,
            "district_code": loc.district_code, "photos": photos}


def _insert_case(frame: CommandFrame, definition_id: int, r: CheckedReport, reporter: str, salt: str) -> int:
    w = frame.writer
    day = frame.now.astimezone(ZoneInfo(frame.ctx.timezone)).strftime("%Y%m%d")
    number = f"{day}{w.one(NEXT_COUNTER, {'name': f'case:{day}'})[0]:05d}"
    loc = r.location
    return w.one(INSERT_CASE, {
        "number": number, "definition_id": definition_id, "source": r.source.value, "class_code": r.class_code,
        "urgency": r.urgency.value, "grid_code": loc.grid_code, "community_code": loc.community_code,
        "street_code": loc.street_code, "district_code": loc.district_code, "lon": r.lon, "lat": r.lat,
        "address": r.address, "description": r.description, "component_id": r.component_id,
        "reporter": reporter, "reporter_salt": salt, "public_token": secrets.token_urlsafe(24),
        "now": w.time(frame.now), "state": b"{}", "last_hash": GENESIS})[0]


def attach(session: Session, case_id: int, tokens: list[str], actor: Actor) -> list[str]:
    """Bind uploaded photos to the case; their sha256 digests, in the order given."""
    changed = updated(session, update(Attachment)
                      .where(Attachment.token.in_(tokens), Attachment.case_id.is_(None),
                             Attachment.uploaded_by == actor.username)
                      .values(case_id=case_id))
    if changed != len(set(tokens)):
        raise ValidationError("some photos are unknown, already used, or uploaded by someone else; upload again")
    digests = dict(session.execute(select(Attachment.token, Attachment.sha256)
                                   .where(Attachment.token.in_(tokens))).all())
    return [digests[t] for t in tokens]

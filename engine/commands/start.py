"""start_case: file a report as a new case on the latest definition and run it to its first wait."""

from __future__ import annotations

import secrets
from typing import Any
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
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
from engine.metrics import Command
from engine.model import Actor, CaseStatus, EngineContext, EventKind, LimitCalendar, Role
from engine.models import Attachment, Case, ReportReceipt
from engine.notify.recipients import DUTY_LEADER

IDEMPOTENCY_KEY_CHARS = (16, 64)


def start_case(session: Session, ctx: EngineContext, report: dict[str, Any], actor: Actor, *,
               idempotency_key: str | None = None) -> CaseResult:
    """File ``report`` as a new case. With ``idempotency_key`` (16–64 characters, chosen by the
    sender once per report), the same reporter sending the same key again gets the case the first
    send made, and nothing new is written: a phone that lost its network may simply send again."""
    if idempotency_key is not None:
        if not IDEMPOTENCY_KEY_CHARS[0] <= len(idempotency_key) <= IDEMPOTENCY_KEY_CHARS[1]:
            raise ValidationError("idempotency_key must have 16 to 64 characters",
                                  {"idempotency_key": "16–64 characters"})
        earlier = _receipt(session, actor, idempotency_key)
        if earlier is not None:
            return earlier
    with CommandFrame(session, ctx, Command.START_CASE) as frame:
        r = check_report(session, report)
        _check_patrol_area(actor, r)
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
        _alert_duty_leader(loaded.workflow, outcome, r)
        if idempotency_key is not None:  # same transaction: the case and its receipt exist together
            session.add(ReportReceipt(reporter=actor.username, idempotency_key=idempotency_key, case_id=case_id,
                                      created_at=frame.now))
            session.flush()  # a concurrent send of the same key fails here (primary key), not at commit
        return frame.save(loaded, outcome)


def _alert_duty_leader(wf: BpmnWorkflow, outcome: Outcome, r: CheckedReport) -> None:
    """A case whose limits run around the clock (time_limits.dmn: calendar natural — road collapse,
    burst main, gas leak, flooding, any report marked emergency) alerts the duty leader at once,
    day or night; the scheduler's next tick sends it (engine.notify)."""
    natural = any(t.data.get("calendar") == LimitCalendar.NATURAL for t in wf.get_tasks(state=TaskState.READY))
    if not natural:
        return
    text = f"紧急案件 {r.class_code}: {r.description or r.address or ''}".strip()
    outcome.data.setdefault("outbox", []).append(
        {"kind": "emergency", "to": DUTY_LEADER, "text": text[:500], "audience": "people", "emergency": True})


def _receipt(session: Session, actor: Actor, key: str) -> CaseResult | None:
    """The case an earlier send with this key made, as start_case returned it then (the case's
    first event), or None."""
    row = session.execute(select(Case.id, Case.number, Case.version, Case.status)
                          .join(ReportReceipt, ReportReceipt.case_id == Case.id)
                          .where(ReportReceipt.reporter == actor.username,
                                 ReportReceipt.idempotency_key == key)).first()
    if row is None:
        return None
    return CaseResult(row.id, row.number, row.version, CaseStatus(row.status), 1)


def _check_patrol_area(actor: Actor, r: CheckedReport) -> None:
    """A supervisor assigned to a district reports inside it (issue 10: decided, not accidental).

    Supervisors (监督员) patrol their own area, and their reports are counted for it; a problem
    seen elsewhere is reported through the hotline or by that district's supervisors."""
    if actor.role == Role.SUPERVISOR and actor.district_code and r.location.district_code != actor.district_code:
        key = "component_id" if r.component_id else "lon"
        raise ValidationError(f"this place is in district {r.location.district_code}; supervisors report in their "
                              f"own district ({actor.district_code})", {key: "outside your district"})


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

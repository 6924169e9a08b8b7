"""correct_case: the acceptor or shift leader corrects a report's class, urgency or place, with a
reason. One ``correction`` event records the old and new values; the case row, its open task rows
and the workflow's live data change together, so the dispatch rule still to come follows the
corrected class. Deadlines already running are kept (the law's time limits count from the report).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.commands.frame import CommandFrame, Outcome
from engine.commands.results import CaseResult
from engine.commands.steps import apply_correction
from engine.errors import Conflict, Forbidden, ValidationError
from engine.fastsql import SELECT_CLASS, Writer
from engine.geo import check_lon_lat, get_locator
from engine.metrics import Command
from engine.model import OPEN_STATUSES, Actor, EngineContext, EventKind, Role, Urgency

CORRECTORS = (Role.ACCEPTOR, Role.SHIFT_LEADER)
# The case-row columns a correction may change (also the start event's report fields).
CORRECTED = ("class_code", "urgency", "lon", "lat", "grid_code", "community_code", "street_code", "district_code")
# The workflow variables the start data set from them.
WORKFLOW_KEYS = ("class_code", "urgency", "grid_code", "street_code", "district_code")
_READ = ("SELECT class_code, urgency, lon, lat, grid_code, community_code, street_code, district_code "
         "FROM case_record WHERE id = :id")
_WRITE_CASE = ("UPDATE case_record SET class_code = :class_code, urgency = :urgency, lon = :lon, lat = :lat, "
               "grid_code = :grid_code, community_code = :community_code, street_code = :street_code, "
               "district_code = :district_code WHERE id = :id")
_WRITE_TASKS = "UPDATE task SET class_code = :class_code, district_code = :district_code WHERE case_id = :id"


def _new_values(session: Session, writer: Writer, current: dict[str, Any], changes: dict[str, Any]
                ) -> dict[str, Any]:
    """The corrected columns (only those that change), checked like a report's."""
    unknown = set(changes) - {"class_code", "urgency", "lon", "lat"}
    if unknown:
        raise ValidationError(f"only class_code, urgency, lon and lat can be corrected (not {sorted(unknown)})",
                              {k: "unknown field" for k in unknown})
    new: dict[str, Any] = {}
    if changes.get("class_code") not in (None, "", current["class_code"]):
        row = writer.one(SELECT_CLASS, {"code": str(changes["class_code"])})
        if row is None or not row.active:
            raise ValidationError("unknown problem class", {"class_code": "unknown problem class"})
        new["class_code"] = row.code
    if changes.get("urgency") not in (None, "", current["urgency"]):
        if changes["urgency"] not in tuple(Urgency):
            raise ValidationError("urgency must be normal, urgent or emergency", {"urgency": "not one of the "
                                                                                             "allowed values"})
        new["urgency"] = str(changes["urgency"])
    if changes.get("lon") not in (None, "") or changes.get("lat") not in (None, ""):
        lon, lat = check_lon_lat(changes.get("lon"), changes.get("lat"))
        if (lon, lat) != (current["lon"], current["lat"]):
            loc = get_locator(session).locate(lon, lat)
            new.update(lon=lon, lat=lat, grid_code=loc.grid_code, community_code=loc.community_code,
                       street_code=loc.street_code, district_code=loc.district_code)
    if not new:
        raise ValidationError("nothing to correct: the values are the case's already", {"class_code": "unchanged"})
    return new


def correct_case(session: Session, ctx: EngineContext, case_id: int, actor: Actor, changes: dict[str, Any],
                 reason: str) -> CaseResult:
    """Correct an open case's class, urgency and/or place (lon/lat: the grid follows), with a reason."""
    if actor.role not in CORRECTORS:
        raise Forbidden("only acceptors and shift leaders correct reports")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > 500:
        raise ValidationError("a correction needs a reason of 1–500 characters", {"reason": "required"})
    with CommandFrame(session, ctx, Command.CORRECT_CASE) as frame:
        case = frame.case(case_id)
        if case.status not in OPEN_STATUSES:
            raise Conflict(f"case {case.number} is {case.status}; only open cases are corrected")
        current = dict(frame.writer.one(_READ, {"id": case_id})._mapping)
        new = _new_values(session, frame.writer, current, changes)
        corrected = {**current, **new}
        workflow = {k: corrected[k] for k in WORKFLOW_KEYS if k in new}
        loaded = frame.load(case)
        outcome = Outcome(EventKind.CORRECTION, actor.username, data={
            "changes": new, "before": {k: current[k] for k in new}, "reason": reason, "workflow": workflow})
        frame.run(loaded, outcome, lambda wf: apply_correction(wf, workflow))  # as replay does
        frame.writer.run(_WRITE_CASE, {**corrected, "id": case_id})
        frame.writer.run(_WRITE_TASKS, {"class_code": corrected["class_code"],
                                        "district_code": corrected["district_code"], "id": case_id})
        return frame.save(loaded, outcome)


__all__ = ["CORRECTORS", "CORRECTED", "correct_case"]

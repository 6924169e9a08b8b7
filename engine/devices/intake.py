"""What one checked observation does.

A reading under the rule's threshold writes only the device row (last state, value, time): the
cheap path most traffic takes. A reading over it extends the device's run of readings over;
when the run reaches the rule's persistence within its window the device is in alarm, and the
alarm either attaches to the open case it belongs to (the device's own open case, or an open
case of the same class within ``DEDUP_RADIUS_M``) as an ``observation`` event, or starts a case
through ``engine.commands.start_case``. A device back to normal sends its open case the
``device_normal`` message (``engine.commands.device_normal``): the case gets a check task (核查).
Functions take a session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.commands import start_case
from engine.commands.device_normal import device_back_to_normal
from engine.commands.frame import CommandFrame
from engine.devices.models import IMAGING_KINDS, Device, DeviceKind, DeviceState
from engine.devices.observations import Observation
from engine.devices.registry import KnownDevice
from engine.devices.rules import Rule, rule_for
from engine.fastsql import Writer
from engine.metrics import Command
from engine.model import OPEN_STATUSES, Actor, EngineContext, EventKind, Role, Source
from engine.models import Case
from engine.queries.similar import similar_open_cases

DEDUP_RADIUS_M = 50.0
RULES_MAX_AGE = 5.0  # seconds a read rule table is reused (a new deployment applies within this)


class Outcome(StrEnum):
    NORMAL = "normal"  # under the threshold
    PENDING = "pending"  # over, but not yet persistent
    CASE_STARTED = "case_started"
    ATTACHED = "attached"  # noted on the open case
    BACK_TO_NORMAL = "back_to_normal"  # the open case got a check task


@dataclass(frozen=True)
class IntakeResult:
    device_id: str
    state: DeviceState
    outcome: Outcome
    case_id: int | None = None
    case_number: str | None = None


def device_actor(device: Device) -> Actor:
    return Actor(f"device:{device.id}", Role.SYSTEM, device.department_code)


def record(session: Session, ctx: EngineContext, device: Device, obs: Observation, now: datetime) -> IntakeResult:
    """Apply ``obs`` (already checked against ``device``) received at ``now``."""
    rule = rule_for(session, DeviceKind(device.kind), obs.class_code, RULES_MAX_AGE)
    device.last_seen = now
    device.last_value = obs.value if obs.value is not None else obs.confidence
    if rule is None or not _over(rule, obs):
        return _normal(session, ctx, device, obs)
    if device.streak and rule.window_minutes and device.streak_since is not None \
            and obs.at - device.streak_since > timedelta(minutes=rule.window_minutes):
        device.streak = 0  # the earlier readings fell out of the window: start a new run
    if not device.streak:
        device.streak_since = obs.at
    device.streak += 1
    if device.streak < rule.persistence:
        session.flush()
        return IntakeResult(device.id, DeviceState(device.state), Outcome.PENDING, device.case_id)
    device.state = DeviceState.ALARM
    return _alarm(session, ctx, device, obs, rule)


_UPDATE_NORMAL = ("UPDATE device SET last_seen = :now, last_value = :value "
                  "WHERE id = :id AND state = 'normal' AND streak = 0")


def record_normal(session: Session, device: KnownDevice, obs: Observation, now: datetime) -> IntakeResult | None:
    """The cheap path most traffic takes: a device that is normal with no run of readings over sends
    a reading under its rule's threshold — one fixed UPDATE of its last state, no ORM row. None when
    the reading needs the full path (``record``): over the threshold, or the device not plainly
    normal (in alarm, silent, in a run, or changed by a concurrent reading since it was read)."""
    if device.state != DeviceState.NORMAL or device.streak:
        return None
    rule = rule_for(session, DeviceKind(device.kind), obs.class_code, RULES_MAX_AGE)
    if rule is not None and _over(rule, obs):
        return None
    writer = Writer(session)
    value = obs.value if obs.value is not None else obs.confidence
    if writer.run(_UPDATE_NORMAL, {"now": writer.time(now), "value": value, "id": device.id}) != 1:
        return None
    return IntakeResult(device.id, DeviceState.NORMAL, Outcome.NORMAL)


def _over(rule: Rule, obs: Observation) -> bool:
    if obs.kind in IMAGING_KINDS:
        return obs.class_code is not None and (obs.confidence or 0.0) >= rule.min_confidence
    return obs.value is not None and obs.value >= rule.threshold


def _normal(session: Session, ctx: EngineContext, device: Device, obs: Observation) -> IntakeResult:
    was = device.state
    device.streak, device.streak_since, device.state = 0, None, DeviceState.NORMAL
    session.flush()
    if was == DeviceState.NORMAL or device.case_id is None:
        return IntakeResult(device.id, DeviceState.NORMAL, Outcome.NORMAL)
    case_id = device.case_id
    device.case_id = None  # the next alarm looks for its case afresh
    session.flush()
    told = device_back_to_normal(session, ctx, case_id, device_actor(device), back_to_normal(device, obs, was))
    if told is None:  # the case closed meanwhile: nothing to check
        return IntakeResult(device.id, DeviceState.NORMAL, Outcome.NORMAL)
    return IntakeResult(device.id, DeviceState.NORMAL, Outcome.BACK_TO_NORMAL, case_id, told.number)


def back_to_normal(device: Device, obs: Observation, was: str) -> dict[str, Any]:
    """The ``device_normal`` message's payload: which device, what it read, what it was before
    (the check task's page and the case history show it)."""
    return {"device": device.id, "state": DeviceState.NORMAL.value, "was": was, "at": obs.at.isoformat(),
            "value": obs.value}


def _alarm(session: Session, ctx: EngineContext, device: Device, obs: Observation, rule: Rule) -> IntakeResult:
    data = {"device": device.id, "state": DeviceState.ALARM.value, "at": obs.at.isoformat(), "value": obs.value,
            "class_code": rule.class_code, "confidence": obs.confidence, "photo_sha256": obs.photo_sha256}
    for case_id in _open_cases(session, device, obs, rule, device.last_seen or obs.at):
        number = note(session, ctx, device, case_id, data)
        if number is not None:
            device.case_id = case_id
            session.flush()
            return IntakeResult(device.id, DeviceState.ALARM, Outcome.ATTACHED, case_id, number)
    lon, lat = (obs.lon, obs.lat) if obs.lon is not None else device.place()
    report: dict[str, Any] = {
        "source": Source.CAMERA if obs.kind in IMAGING_KINDS else Source.SENSOR, "class_code": rule.class_code,
        "urgency": rule.urgency, "description": _describe(device, obs)}
    if device.component_id and obs.lon is None:
        report["component_id"] = device.component_id
    else:
        report["lon"], report["lat"] = lon, lat
    result = start_case(session, ctx, report, device_actor(device))
    device.case_id = result.case_id
    session.flush()
    return IntakeResult(device.id, DeviceState.ALARM, Outcome.CASE_STARTED, result.case_id, result.number)


def _describe(device: Device, obs: Observation) -> str:
    if obs.kind in IMAGING_KINDS:
        return f"设备 {device.id} ({obs.kind}) 识别到 {obs.class_code}, 置信度 {obs.confidence:.2f}"
    return f"设备 {device.id} ({obs.kind}) 读数 {obs.value:g} 超过阈值"


def _open_cases(session: Session, device: Device, obs: Observation, rule: Rule, now: datetime) -> list[int]:
    """Open cases this alarm belongs to: the device's own first, then the same class nearby."""
    found = [device.case_id] if device.case_id is not None else []
    lon, lat = (obs.lon, obs.lat) if obs.lon is not None else device.place()
    similar = similar_open_cases(session, None, class_code=rule.class_code, lon=lon, lat=lat,
                                 component_id=device.component_id, at=now, radius_m=DEDUP_RADIUS_M)
    numbers = [c.number for c in similar]
    if numbers:
        ids = dict(session.execute(select(Case.number, Case.id).where(Case.number.in_(numbers))).all())
        found += [ids[n] for n in numbers if ids[n] not in found]
    return found


def note(session: Session, ctx: EngineContext, device: Device, case_id: int, data: dict[str, Any]) -> str | None:
    """An ``observation`` event on the case when it is still open (its number), else None."""
    with CommandFrame(session, ctx, Command.RECORD_OBSERVATION) as frame:
        case = frame.case(case_id)
        if case.status not in OPEN_STATUSES:
            return None
        frame.annotate(case, device_actor(device), EventKind.OBSERVATION, data=data)
        return case.number

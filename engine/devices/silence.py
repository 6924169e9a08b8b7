"""Devices that stopped reporting: after the rule's ``silent_minutes`` without an observation a
device is silent and a maintenance case is filed for its owner department. The scheduler tick
(or ``citycase devices check-silent``) calls ``check_silent``; it never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.commands import start_case
from engine.devices.intake import device_actor
from engine.devices.models import IMAGING_KINDS, Device, DeviceKind, DeviceState
from engine.devices.rules import decide, parse_table, table_text
from engine.model import EngineContext, Source, Urgency


@dataclass(frozen=True)
class SilentDevice:
    device_id: str
    department_code: str
    case_id: int
    case_number: str


def check_silent(session: Session, ctx: EngineContext) -> list[SilentDevice]:
    """Mark devices silent past their rule's limit and file one maintenance case for each."""
    now = ctx.clock.now()
    table = parse_table(table_text(session))
    found = []
    devices = session.scalars(select(Device).where(Device.state != DeviceState.SILENT, Device.key_hash.is_not(None))
                              .order_by(Device.id)).all()
    for device in devices:
        rule = decide(table, DeviceKind(device.kind), None)
        seen = device.last_seen or device.created_at
        if rule is None or now - seen <= timedelta(minutes=rule.silent_minutes):
            continue
        report: dict[str, object] = {"source": Source.CAMERA if device.kind in IMAGING_KINDS else Source.SENSOR,
                  "class_code": rule.maintenance_class, "urgency": Urgency.NORMAL,
                  "description": f"设备维护: {device.id} ({device.kind}) 自 {seen.isoformat(timespec='minutes')} "
                                 f"起无数据, 权属单位 {device.department_code}"}
        if device.component_id:
            report["component_id"] = device.component_id
        else:
            report["lon"], report["lat"] = device.place()
        result = start_case(session, ctx, report, device_actor(device))
        device.state, device.case_id, device.streak, device.streak_since = DeviceState.SILENT, result.case_id, 0, None
        session.flush()
        found.append(SilentDevice(device.id, device.department_code, result.case_id, result.number))
    return found

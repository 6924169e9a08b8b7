"""Helpers for the device tests: register a device, send an observation, count every table."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, inspect, select, text

from engine.devices.intake import IntakeResult
from engine.devices.models import Device, DeviceKind
from engine.devices.receive import receive
from engine.devices.registry import NewDevice, add_device
from engine.model import EngineContext
from engine.models import Event


def register(db, clock, device_id: str, kind: DeviceKind, department: str = "drainage",
             offset_m: float = 0.0, **extra: Any) -> str:
    """A device near the city's centre (``offset_m`` metres north); its key."""
    lon, lat = db.city["center"]
    with db.session() as s:
        _, key = add_device(s, NewDevice(device_id, kind, department, lon, lat + offset_m / 111_320.0, **extra),
                            clock.now())
    return key


def send(db, clock, key: str, device_id: str, kind: str, at: datetime | None = None, **reading: Any) -> IntakeResult:
    body = {"device_id": device_id, "kind": kind, "at": (at or clock.now()).isoformat(), **reading}
    with db.session() as s:
        return receive(s, EngineContext(clock), key, body)


def readings(db, clock, key: str, device_id: str, values: list[float], every: timedelta) -> list[IntakeResult]:
    """Send ``values`` one ``every`` apart, moving the clock."""
    out = []
    for v in values:
        out.append(send(db, clock, key, device_id, "water_gauge", value=v))
        clock.advance(every)
    return out


def everything(db) -> dict[str, Any]:
    """Each table's row count, and every device row: what a refused observation must leave as it was."""
    with db.session() as s:
        tables = inspect(s.get_bind()).get_table_names()
        counts = {t: s.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in tables}
        devices = [tuple(getattr(d, c.key) for c in Device.__table__.columns)
                   for d in s.scalars(select(Device).order_by(Device.id))]
    return {"counts": counts, "devices": devices}


def event_kinds(db, case_id: int) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(Event.kind).where(Event.case_id == case_id).order_by(Event.seq)))


def case_count(db) -> int:
    from engine.models import Case

    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Case))

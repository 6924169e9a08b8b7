"""The intake entry point: authenticate the device, check the observation, apply it.

Everything that can refuse (unknown device, wrong or revoked key, a malformed or out-of-range
observation) is checked before the first write, so a refusal writes nothing even before the
caller rolls back. A normal reading of a normal device takes the cheap path (``record_normal``:
one SELECT and one UPDATE in fixed SQL); everything else loads the device row and ``record``s."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.devices.intake import IntakeResult, record, record_normal
from engine.devices.models import Device
from engine.devices.observations import check_observation
from engine.devices.registry import authenticate_row
from engine.errors import Forbidden
from engine.model import EngineContext


class DeviceRefused(Forbidden):
    """Unknown device, wrong key or revoked key (one message: which one is not told)."""


def receive(session: Session, ctx: EngineContext, key: str | None, data: Any) -> IntakeResult:
    now = ctx.clock.now()
    device_id = data.get("device_id") if isinstance(data, dict) else None
    known = authenticate_row(session, device_id, key)
    if known is None:
        raise DeviceRefused("unknown device or wrong device key")
    obs = check_observation(data, known.kind, now)
    cheap = record_normal(session, known, obs, now)
    if cheap is not None:
        return cheap
    device = session.get(Device, known.id)
    if device is None:  # removed since it was read
        raise DeviceRefused("unknown device or wrong device key")
    return record(session, ctx, device, obs, now)

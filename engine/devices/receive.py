"""The intake entry point: authenticate the device, check the observation, apply it.

Everything that can refuse (unknown device, wrong or revoked key, a malformed or out-of-range
observation) is checked before the first write, so a refusal writes nothing even before the
caller rolls back."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.devices.intake import IntakeResult, record
from engine.devices.observations import check_observation
from engine.devices.registry import authenticate
from engine.errors import Forbidden
from engine.model import EngineContext


class DeviceRefused(Forbidden):
    """Unknown device, wrong key or revoked key (one message: which one is not told)."""


def receive(session: Session, ctx: EngineContext, key: str | None, data: Any) -> IntakeResult:
    now = ctx.clock.now()
    device_id = data.get("device_id") if isinstance(data, dict) else None
    device = authenticate(session, device_id, key)
    if device is None:
        raise DeviceRefused("unknown device or wrong device key")
    obs = check_observation(data, device.kind, now)
    return record(session, ctx, device, obs, now)

"""Registering devices and their keys. A device key is like an Open311 key (engine.apikeys):
``secrets.token_urlsafe(32)``, shown once, stored as sha256. Functions take a session and never
commit (the caller does)."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.apikeys import MAX_KEY_LENGTH, hash_key
from engine.devices.models import Device, DeviceKind, DeviceState
from engine.errors import Conflict, NotFound, ValidationError
from engine.fastsql import Writer
from engine.geo import check_lon_lat, is_component_id
from engine.models import Department

DEVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


@dataclass(frozen=True)
class NewDevice:
    id: str
    kind: DeviceKind
    department_code: str
    lon: float | None = None
    lat: float | None = None
    route: list[tuple[float, float]] | None = None
    component_id: str | None = None


def add_device(session: Session, spec: NewDevice, now: datetime) -> tuple[Device, str]:
    """Register a device; returns the row and its key's plaintext (shown once, never stored)."""
    if not DEVICE_ID.fullmatch(spec.id or ""):
        raise ValidationError("a device id is 1–40 letters, digits, '_', '.' or '-'", {"id": "invalid"})
    if session.get(Device, spec.id) is not None:
        raise Conflict(f"device {spec.id} already exists")
    if session.get(Department, spec.department_code) is None:
        raise ValidationError(f"unknown department {spec.department_code}", {"department": "unknown"})
    if spec.component_id is not None and not is_component_id(spec.component_id):
        raise ValidationError("a component id has 16 digits", {"component_id": "16 digits"})
    lon = lat = None
    if spec.lon is not None or spec.lat is not None:
        lon, lat = check_lon_lat(spec.lon, spec.lat)
    route = [check_lon_lat(p[0], p[1]) for p in spec.route] if spec.route else None
    if lon is None and not route and spec.component_id is None:
        raise ValidationError("a device needs a location, a route or a component", {"location": "required"})
    plaintext = secrets.token_urlsafe(32)
    row = Device(id=spec.id, kind=DeviceKind(spec.kind), lon=lon, lat=lat, component_id=spec.component_id,
                 route=orjson.dumps(route).decode() if route else None, department_code=spec.department_code,
                 key_hash=hash_key(plaintext), state=DeviceState.NORMAL, streak=0, created_at=now)
    session.add(row)
    session.flush()
    return row, plaintext


def authenticate(session: Session, device_id: object, plaintext: object) -> Device | None:
    """The device named ``device_id`` when ``plaintext`` is its current key, else None."""
    if not isinstance(plaintext, str) or not plaintext or len(plaintext) > MAX_KEY_LENGTH:
        return None
    if not isinstance(device_id, str) or not DEVICE_ID.fullmatch(device_id):
        return None
    row = session.get(Device, device_id)
    if row is None or row.key_hash is None or not hmac.compare_digest(row.key_hash, hash_key(plaintext)):
        return None
    return row


@dataclass(frozen=True)
class KnownDevice:
    """What the intake's cheap path needs of a device (``authenticate_row``)."""

    id: str
    kind: str
    state: str
    streak: int


_SELECT_DEVICE = "SELECT kind, key_hash, state, streak FROM device WHERE id = :id"


def authenticate_row(session: Session, device_id: object, plaintext: object) -> KnownDevice | None:
    """``authenticate`` without loading the ORM row: one fixed SELECT (the intake's hot path)."""
    if not isinstance(plaintext, str) or not plaintext or len(plaintext) > MAX_KEY_LENGTH:
        return None
    if not isinstance(device_id, str) or not DEVICE_ID.fullmatch(device_id):
        return None
    row = Writer(session).one(_SELECT_DEVICE, {"id": device_id})
    if row is None or row.key_hash is None or not hmac.compare_digest(row.key_hash, hash_key(plaintext)):
        return None
    return KnownDevice(device_id, row.kind, row.state, row.streak)


def revoke_key(session: Session, device_id: str) -> Device:
    """The device can no longer send (kept, with its history); ``new_key`` gives it another."""
    row = session.get(Device, device_id)
    if row is None:
        raise NotFound(f"device {device_id} does not exist")
    row.key_hash = None
    session.flush()
    return row


def new_key(session: Session, device_id: str) -> str:
    row = session.get(Device, device_id)
    if row is None:
        raise NotFound(f"device {device_id} does not exist")
    plaintext = secrets.token_urlsafe(32)
    row.key_hash = hash_key(plaintext)
    session.flush()
    return plaintext


def list_devices(session: Session) -> list[Device]:
    return list(session.scalars(select(Device).order_by(Device.id)))

"""Checking one observation before it touches anything: its shape (pydantic), the device's kind,
the value's physical range, its time and the photo's size. Every refusal is a ValidationError
with a field map (the API's ``{"error", "fields"}`` body), raised before any write."""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr
from pydantic import ValidationError as ShapeError

from engine.devices.models import IMAGING_KINDS, DeviceKind
from engine.errors import ValidationError
from engine.geo import check_lon_lat

CLOCK_SKEW = timedelta(minutes=2)  # a device's clock may run this far ahead of ours
MAX_AGE = timedelta(days=7)  # older readings are history, not news
MAX_PHOTO_BYTES = 1024 * 1024
# What each measuring kind reports and its physical range (a reading outside is a broken sensor).
RANGES: dict[DeviceKind, tuple[float, float, str]] = {
    DeviceKind.WATER_GAUGE: (0.0, 500.0, "cm"),  # water depth above the road
    DeviceKind.MANHOLE_COVER: (0.0, 180.0, "°"),  # tilt/displacement angle
    DeviceKind.AIR_NOISE: (0.0, 200.0, "dB"),
    DeviceKind.SMART_BIN: (0.0, 100.0, "%"),  # fill level
}
Number = StrictInt | StrictFloat


class ObservationBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    device_id: StrictStr = Field(min_length=1, max_length=40)
    kind: DeviceKind
    at: AwareDatetime
    value: Number | None = None
    class_code: StrictStr | None = Field(default=None, pattern=r"^[CE]\d{4}$")
    confidence: Number | None = None
    lon: Number | None = None
    lat: Number | None = None
    photo: StrictStr | None = Field(default=None, max_length=(MAX_PHOTO_BYTES * 4) // 3 + 4)


@dataclass(frozen=True)
class Observation:
    device_id: str
    kind: DeviceKind
    at: datetime
    value: float | None
    class_code: str | None
    confidence: float | None
    lon: float | None
    lat: float | None
    photo_sha256: str | None


def _shape(data: Any) -> ObservationBody:
    try:
        return ObservationBody.model_validate(data)
    except ShapeError as exc:
        fields: dict[str, str] = {}
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else "body"
            fields.setdefault(key, "unknown field" if err["type"] == "extra_forbidden" else err["msg"])
        raise ValidationError("invalid observation: " + "; ".join(f"{k}: {v}" for k, v in fields.items()),
                              fields) from None


def _reading(body: ObservationBody, kind: DeviceKind) -> tuple[float | None, str | None, float | None]:
    """The value (measuring kinds) or the recognised class and confidence (imaging kinds)."""
    if kind in IMAGING_KINDS:
        if body.value is not None:
            raise ValidationError(f"a {kind} reports a recognised class, not a value", {"value": "not allowed"})
        if (body.class_code is None) != (body.confidence is None):
            raise ValidationError("class_code and confidence come together", {"confidence": "required with class_code"})
        if body.confidence is not None and not 0.0 <= body.confidence <= 1.0:
            raise ValidationError("confidence is between 0 and 1", {"confidence": "0–1"})
        return None, body.class_code, None if body.confidence is None else float(body.confidence)
    low, high, unit = RANGES[kind]
    if body.class_code is not None or body.confidence is not None:
        raise ValidationError(f"a {kind} reports a value, not a class", {"class_code": "not allowed"})
    if body.value is None:
        raise ValidationError(f"a {kind} reports a value in {unit}", {"value": "required"})
    if not (math.isfinite(body.value) and low <= body.value <= high):
        raise ValidationError(f"a {kind} reads {low:g}–{high:g} {unit}", {"value": f"{low:g}–{high:g} {unit}"})
    return float(body.value), None, None


def _photo(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("photo must be base64", {"photo": "not base64"}) from None
    if not raw or len(raw) > MAX_PHOTO_BYTES:
        raise ValidationError(f"a photo has 1 byte to {MAX_PHOTO_BYTES // 1024} KiB", {"photo": "too large"})
    return hashlib.sha256(raw).hexdigest()


def check_observation(data: Any, device_kind: str, now: datetime) -> Observation:
    """The checked observation of a device of ``device_kind``, received at ``now``."""
    body = _shape(data)
    if body.kind != device_kind:
        raise ValidationError(f"this device is a {device_kind}, not a {body.kind}", {"kind": "not this device's kind"})
    if body.at > now + CLOCK_SKEW:
        raise ValidationError("the observation's time is in the future", {"at": "in the future"})
    if body.at < now - MAX_AGE:
        raise ValidationError(f"the observation is older than {MAX_AGE.days} days", {"at": "too old"})
    value, class_code, confidence = _reading(body, body.kind)
    lon = lat = None
    if body.lon is not None or body.lat is not None:
        lon, lat = check_lon_lat(body.lon, body.lat)
    return Observation(body.device_id, body.kind, body.at, value, class_code, confidence, lon, lat,
                       _photo(body.photo))

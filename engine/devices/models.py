"""The device table and the values code branches on (kinds, states)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import orjson
from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class DeviceKind(StrEnum):
    CAMERA = "camera"
    DRONE = "drone"
    MANHOLE_COVER = "manhole_cover"
    WATER_GAUGE = "water_gauge"
    AIR_NOISE = "air_noise"
    SMART_BIN = "smart_bin"


# Kinds that recognise a problem class in an image (with a confidence) instead of measuring a value.
IMAGING_KINDS = frozenset({DeviceKind.CAMERA, DeviceKind.DRONE})


class DeviceState(StrEnum):
    NORMAL = "normal"
    ALARM = "alarm"
    SILENT = "silent"


class Device(Base):
    """A registered device; only the sha256 of its key is kept (see engine.apikeys)."""

    __tablename__ = "device"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    route: Mapped[str | None] = mapped_column(Text)  # JSON [[lon, lat], …] for drones on a route
    component_id: Mapped[str | None] = mapped_column(String(16))
    department_code: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # None: key revoked
    state: Mapped[str] = mapped_column(String(10), default=DeviceState.NORMAL)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_value: Mapped[float | None] = mapped_column(Float)
    # Persistence: the current run of readings over the threshold (count, first reading's time).
    streak: Mapped[int] = mapped_column(Integer, default=0)
    streak_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The open case this device's alarms (or its silence) attach to.
    case_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def place(self) -> tuple[float | None, float | None]:
        """Where the device is: its point, else the start of its route."""
        if self.lon is not None or not self.route:
            return self.lon, self.lat
        first = orjson.loads(self.route)[0]
        return float(first[0]), float(first[1])

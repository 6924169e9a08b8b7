"""The devices as a map layer: each device's place (in the tiles' datum) and last state."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from engine.devices.models import DeviceState
from engine.devices.registry import list_devices
from web.cases.display import local_time
from web.geo_display import to_display


def state_label(state: str) -> str:
    return {DeviceState.NORMAL: _("normal (device state)"), DeviceState.ALARM: _("alarm"),
            DeviceState.SILENT: _("silent")}.get(DeviceState(state), state)


def kind_label(kind: str) -> str:
    return {"camera": _("camera"), "drone": _("drone"), "manhole_cover": _("manhole cover sensor"),
            "water_gauge": _("water gauge"), "air_noise": _("air/noise sensor"),
            "smart_bin": _("smart bin")}.get(kind, kind)


def device_layer(session: Session, crs: str) -> list[dict[str, Any]]:
    """[{id, kind, state, state_label, lat, lon, seen, value}] for the active devices with a place."""
    out = []
    for d in list_devices(session):
        lon, lat = d.place()
        if lon is None or lat is None or d.key_hash is None:
            continue
        x, y = to_display(lon, lat, crs)
        out.append({"id": d.id, "kind": kind_label(d.kind), "state": d.state, "state_label": state_label(d.state),
                    "lat": round(y, 7), "lon": round(x, 7), "seen": local_time(d.last_seen),
                    "value": d.last_value})
    return out

"""Simulated devices for the demo city: water gauges that drift and, in a storm, rise past their
threshold and fall back; cameras that recognise pedlars at the evening rush hour. Observations go
through the same entry point as the intake API (``engine.devices.receive``), one transaction each,
on a simulated clock. Everything random comes from one seeded generator: same seed, same result.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import ManualClock
from engine.db import transaction
from engine.devices.models import DeviceKind
from engine.devices.receive import receive
from engine.devices.registry import NewDevice, add_device
from engine.model import EngineContext
from engine.models import GridCell

STEP = timedelta(minutes=5)
GAUGES = 6
CAMERAS = 2


@dataclass
class DeviceRun:
    devices: int = 0
    observations: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    cases: list[str] = field(default_factory=list)


def _places(session: Session, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """Centres of ``n`` grid cells, far enough apart that each device has its own place."""
    cells = session.scalars(select(GridCell).order_by(GridCell.code)).all()
    picked = rng.sample(list(cells), min(n, len(cells)))
    return [((c.min_lon + c.max_lon) / 2, (c.min_lat + c.max_lat) / 2) for c in picked]


def _register(factory: sessionmaker[Session], now: datetime, rng: random.Random) -> list[tuple[str, str, str]]:
    with transaction(factory) as s:
        places = _places(s, GAUGES + CAMERAS, rng)
        out = []
        for i, (lon, lat) in enumerate(places):
            kind = DeviceKind.WATER_GAUGE if i < GAUGES else DeviceKind.CAMERA
            device_id = f"{'WG' if i < GAUGES else 'CAM'}-SIM-{i + 1:02d}"
            department = "drainage" if kind == DeviceKind.WATER_GAUGE else "enforcement"
            _, key = add_device(s, NewDevice(device_id, kind, department, lon, lat), now)
            out.append((device_id, str(kind), key))
    return out


def _gauge_depth(i: int, t: float, storm: tuple[float, float], rng: random.Random) -> float:
    """Water depth (cm) at hour ``t``: a little drift, and for gauge 0 a storm bump peaking at 60 cm."""
    depth = max(0.0, 3.0 + 2.0 * math.sin(t / 3 + i) + rng.gauss(0, 1))
    start, end = storm
    if i == 0 and start <= t <= end:
        depth += 60.0 * math.sin(math.pi * (t - start) / (end - start))
    return round(min(depth, 500.0), 1)


def simulate_devices(factory: sessionmaker[Session], start: datetime, hours: float, seed: int = 1,
                     timezone: str = "Asia/Shanghai") -> DeviceRun:
    """Register the simulated devices and run them for ``hours`` from ``start``."""
    rng = random.Random(seed)
    clock = ManualClock(start)
    ctx = EngineContext(clock, timezone)
    devices = _register(factory, start, rng)
    run = DeviceRun(devices=len(devices))
    storm = (hours * 0.2, hours * 0.2 + 1.5)  # a 90-minute downpour early in the run
    tz = ZoneInfo(timezone)
    steps = int(hours * 60 / (STEP.total_seconds() / 60))
    for n in range(steps):
        t = n * STEP.total_seconds() / 3600
        local_hour = clock.now().astimezone(tz).hour
        for i, (device_id, kind, key) in enumerate(devices):
            body: dict[str, object] = {"device_id": device_id, "kind": kind, "at": clock.now().isoformat()}
            if kind == DeviceKind.WATER_GAUGE:
                body["value"] = _gauge_depth(i, t, storm, rng)
            elif 17 <= local_hour < 19 and rng.random() < 0.3:  # evening rush: pedlars appear
                body |= {"class_code": "E0501", "confidence": round(rng.uniform(0.7, 0.99), 2)}
            with transaction(factory) as s:
                result = receive(s, ctx, key, body)
            run.observations += 1
            run.outcomes[result.outcome.value] += 1
            if result.case_number and result.case_number not in run.cases:
                run.cases.append(result.case_number)
        clock.advance(STEP)
    return run

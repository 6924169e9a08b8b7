"""The field in the demo city, ending at a given instant (the present for ``make demo``):

* **flood**: a water gauge at an underpass rises past its threshold; the persistent alarm files one
  case (class and urgency from bpmn/intake_rules.dmn), the centre verifies, files and dispatches it
  (to drainage, as bpmn/dispatch.dmn says), further alarms attach to it, the water falls back and
  the case gets its check task (Device_check). A few other devices report normally; one never did
  and is silent (a maintenance case for its owner).
* **patrol**: today's roster for the supervisors, their duty (one late, one gone early, one absent)
  and their tracks through their grid cells, a point a minute.

Everything goes through the same entry points as the real thing (``engine.devices.receive``, the
engine commands, ``engine.patrol``), one transaction each, on a manual clock moved forward in
steps. Everything random comes from one seeded generator.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import ManualClock
from engine.commands import complete_task
from engine.db import transaction
from engine.devices.intake import Outcome
from engine.devices.models import Device, DeviceKind
from engine.devices.receive import receive
from engine.devices.registry import NewDevice, add_device
from engine.devices.silence import check_silent
from engine.model import EngineContext
from engine.models import GridCell, TaskRow, User
from engine.patrol.duty import end_duty, start_duty
from engine.patrol.positions import record_batch
from engine.patrol.roster import set_shift

FLOOD_GAUGE = "WG-DEMO-01"
STEP = timedelta(minutes=5)
# Depth (cm) every 5 minutes: dry, the storm, three readings over 30 cm file the case, it stays
# high (further alarms attach), and falls back under the threshold (the check task).
FLOOD_DEPTHS = (4, 5, 9, 18, 31, 38, 46, 52, 49, 41, 33, 22, 12, 6)
CENTRE_STEPS = ("verify", "accept", "file", "dispatch")


@dataclass
class FieldRun:
    flood_case: str | None = None
    outcomes: list[str] = field(default_factory=list)
    devices: int = 0
    silent_cases: list[str] = field(default_factory=list)
    supervisors: int = 0
    positions: int = 0


def _cells(session: Session, district: str | None, n: int, rng: random.Random) -> list[GridCell]:
    stmt = select(GridCell).order_by(GridCell.code)
    if district:
        stmt = stmt.where(GridCell.district_code == district)
    cells = list(session.scalars(stmt))
    if not cells:
        return []
    start = rng.randrange(len(cells))
    return [cells[(start + i) % len(cells)] for i in range(min(n, len(cells)))]


def _centre(cell: GridCell) -> tuple[float, float]:
    return (cell.min_lon + cell.max_lon) / 2, (cell.min_lat + cell.max_lat) / 2


def _register_devices(factory: sessionmaker[Session], at: datetime, rng: random.Random, gauge: str,
                      others: bool) -> dict[str, str]:
    """The flood gauge and, with ``others``, three more; the manhole cover was installed days ago
    and never sent. Returns each device's key."""
    plan = [(gauge, DeviceKind.WATER_GAUGE, "drainage")]
    if others:
        plan += [("WG-DEMO-02", DeviceKind.WATER_GAUGE, "drainage"), ("CAM-DEMO-01", DeviceKind.CAMERA, "enforcement"),
                 ("MC-DEMO-01", DeviceKind.MANHOLE_COVER, "municipal")]
    with transaction(factory) as s:
        cells = _cells(s, "330191", len(plan), rng)
        keys = {}
        for (device_id, kind, dept), cell in zip(plan, cells, strict=False):
            if s.get(Device, device_id) is not None:
                raise ValueError(f"device {device_id} exists already; give another --seed or device id")
            lon, lat = _centre(cell)
            since = at - timedelta(days=3) if kind == DeviceKind.MANHOLE_COVER else at
            keys[device_id] = add_device(s, NewDevice(device_id, kind, dept, lon, lat), since)[1]
    return keys


def _centre_acts(factory: sessionmaker[Session], ctx: EngineContext, case_id: int) -> None:
    """The supervision and command centres take the case up to dispatch, one step each."""
    from engine.demo.simulate import Simulator, _suggested_department

    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    for spec in CENTRE_STEPS:
        with transaction(factory) as s:
            row = s.scalars(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.spec_id == spec)).first()
            if row is None:
                continue
            data = {"verify": {"verdict": "confirmed", "note": "现场确认: 下穿通道积水"},
                    "accept": {"decision": "file"}, "file": {"decision": "file"},
                    "dispatch": {"department": _suggested_department(s, row) or "drainage"}}[spec]
            complete_task(s, ctx, row.id, Simulator.actor_for(row), data)
        clock.advance(timedelta(minutes=2))


def flood(factory: sessionmaker[Session], end: datetime, timezone: str, seed: int = 1, *,
          gauge: str = FLOOD_GAUGE, others: bool = True) -> FieldRun:
    """The flood scenario at a new gauge ``gauge``, its last reading at ``end`` (with ``others``:
    the demo's other devices too, and the silence check that finds the one that never reported)."""
    rng = random.Random(seed)
    start = end - STEP * (len(FLOOD_DEPTHS) - 1) - timedelta(minutes=10)
    clock = ManualClock(start)
    ctx = EngineContext(clock, timezone)
    keys = _register_devices(factory, start, rng, gauge, others)
    run = FieldRun(devices=len(keys))
    for i, depth in enumerate(FLOOD_DEPTHS):
        clock.set(max(clock.now(), start + STEP * i))
        body = {"device_id": gauge, "kind": "water_gauge", "at": clock.now().isoformat(), "value": depth}
        with transaction(factory) as s:
            result = receive(s, ctx, keys[gauge], body)
        run.outcomes.append(result.outcome.value)
        if result.outcome == Outcome.CASE_STARTED and result.case_id is not None:
            run.flood_case = result.case_number
            _centre_acts(factory, ctx, result.case_id)
    clock.set(max(clock.now(), end))
    if not others:
        return run
    for device_id, kind, reading in (("WG-DEMO-02", "water_gauge", {"value": 3.5}), ("CAM-DEMO-01", "camera", {})):
        with transaction(factory) as s:
            receive(s, ctx, keys[device_id], {"device_id": device_id, "kind": kind, "at": clock.now().isoformat(),
                                              **reading})
    with transaction(factory) as s:
        run.silent_cases = [f.case_number for f in check_silent(s, ctx)]
    return run


def _walk(cells: list[GridCell], start: datetime, end: datetime, rng: random.Random) -> list[dict]:
    """A point a minute from ``start`` to ``end``, walking from cell centre to cell centre."""
    stops = [_centre(c) for c in cells]
    minutes = int((end - start).total_seconds() // 60)
    points = []
    for m in range(minutes + 1):
        leg = m / 12.0  # twelve minutes from one cell to the next
        a, b = stops[int(leg) % len(stops)], stops[(int(leg) + 1) % len(stops)]
        f = leg - math.floor(leg)
        lon = a[0] + (b[0] - a[0]) * f + rng.gauss(0, 0.00005)
        lat = a[1] + (b[1] - a[1]) * f + rng.gauss(0, 0.00005)
        points.append({"at": (start + timedelta(minutes=m)).isoformat(), "lon": round(lon, 7), "lat": round(lat, 7),
                       "accuracy": round(rng.uniform(4, 15), 1)})
    return points


def patrol(factory: sessionmaker[Session], now: datetime, timezone: str, seed: int = 1) -> FieldRun:
    """Today's roster (a shift that began about three hours before ``now``), duty and tracks."""
    rng = random.Random(seed)
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    begin = max(local.replace(hour=0, minute=0, second=0, microsecond=0),
                (local - timedelta(hours=3)).replace(minute=0 if local.minute < 30 else 30, second=0, microsecond=0))
    shift_end = begin + timedelta(hours=8)
    run = FieldRun()
    with transaction(factory) as s:
        users = list(s.execute(select(User.username, User.district_code).where(User.role == "supervisor",
                                                                               User.active).order_by(User.id)))
        rosters = {}
        for username, district in users:
            cells = _cells(s, district, 8, rng)
            set_shift(s, username, begin.date(), begin.strftime("%H:%M"), shift_end.strftime("%H:%M"),
                      [c.code for c in cells], timezone)
            rosters[username] = cells
    # Who does what: on time, late, gone early, on time, absent, … (the rest on time).
    habits = ("on_time", "late", "early", "on_time", "absent")
    for i, (username, _district) in enumerate(users):
        habit = habits[i] if i < len(habits) else "on_time"
        if habit == "absent" or now - begin < timedelta(minutes=2):
            continue
        came = begin + (timedelta(minutes=25) if habit == "late" else timedelta(minutes=-rng.randint(0, 4)))
        came = min(came, now)
        left = max(came, now - timedelta(minutes=50)) if habit == "early" else None
        points = _walk(rosters[username], came, left or now, rng)
        with transaction(factory) as s:
            start_duty(s, username, came)
            if left is not None:
                end_duty(s, username, left)
        for k in range(0, len(points), 200):
            with transaction(factory) as s:
                run.positions += record_batch(s, username, {"points": points[k:k + 200]}, now).stored
        run.supervisors += 1
    return run

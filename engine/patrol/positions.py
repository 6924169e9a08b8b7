"""Batches of positions from the supervisor's phone.

The phone collects a point every N seconds while on duty, keeps unsent points in localStorage
when offline and sends them in batches later, possibly twice and in any order. So a batch is
checked whole before anything is written (a bad one is refused with the field at fault), each
point is stored once per (user, instant) — a resent batch adds nothing — and points are kept by
their own time, not by arrival. Points outside every duty period of the user are not stored
(counted as ``outside_duty``): the track is the duty's, not the person's day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictFloat, StrictInt
from pydantic import ValidationError as ShapeError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.fastsql import Writer
from engine.geo import check_lon_lat, get_locator
from engine.patrol.duty import duties_between
from engine.patrol.models import Position

_INSERT = ("INSERT INTO patrol_position (username, at, lon, lat, accuracy, grid_code, received_at) "
           "VALUES (:username, :at, :lon, :lat, :accuracy, :grid_code, :received_at) "
           "ON CONFLICT (username, at) DO NOTHING")
MAX_POINTS = 500  # a phone offline for 40 minutes at one point per 5 s
CLOCK_SKEW = timedelta(minutes=2)
MAX_AGE = timedelta(days=7)
Number = StrictInt | StrictFloat


class PointBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime
    lon: Number
    lat: Number
    accuracy: Number | None = Field(default=None, ge=0, le=100000)


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    points: list[PointBody] = Field(min_length=1, max_length=MAX_POINTS)


@dataclass(frozen=True)
class BatchResult:
    received: int
    stored: int  # new points
    duplicates: int  # already stored (a resent batch)
    outside_duty: int


def check_batch(data: object, now: datetime) -> list[PointBody]:
    """The batch's points, or ValidationError naming the first bad field (nothing is written)."""
    try:
        body = BatchBody.model_validate(data)
    except ShapeError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise ValidationError(f"invalid position batch: {where}: {err['msg']}", {where: err["msg"]}) from None
    for i, p in enumerate(body.points):
        if not (math.isfinite(p.lon) and math.isfinite(p.lat)):
            raise ValidationError("a position needs finite coordinates", {f"points.{i}": "not finite"})
        check_lon_lat(p.lon, p.lat)
        if p.at > now + CLOCK_SKEW:
            raise ValidationError("a position's time is in the future", {f"points.{i}.at": "in the future"})
        if p.at < now - MAX_AGE:
            raise ValidationError(f"a position is older than {MAX_AGE.days} days", {f"points.{i}.at": "too old"})
    return list(body.points)


def record_batch(session: Session, username: str, data: object, now: datetime) -> BatchResult:
    points = check_batch(data, now)
    first = min(p.at for p in points)
    last = max(p.at for p in points)
    duties = duties_between(session, username, first, last + timedelta(microseconds=1))

    def on_duty(at: datetime) -> bool:
        return any(d.started_at <= at and (d.ended_at is None or at <= d.ended_at) for d in duties)

    known = set(session.scalars(select(Position.at).where(Position.username == username, Position.at >= first,
                                                          Position.at <= last)))
    locator = get_locator(session, max_age=30.0)
    writer = Writer(session)
    duplicates = outside = 0
    rows = []
    for p in sorted(points, key=lambda q: q.at):
        at = p.at.astimezone(UTC)
        if at in known:
            duplicates += 1
            continue
        if not on_duty(p.at):
            outside += 1
            continue
        cell = locator.find(p.lon, p.lat)
        rows.append({"username": username, "at": writer.time(at), "lon": float(p.lon), "lat": float(p.lat),
                     "accuracy": None if p.accuracy is None else float(p.accuracy),
                     "grid_code": cell.grid_code if cell else None, "received_at": writer.time(now)})
        known.add(at)
    # A concurrent copy of the same batch (two tabs) may have stored some meanwhile: skipped, not an error.
    stored = sum(writer.run(_INSERT, row) for row in rows)
    duplicates += len(rows) - stored
    return BatchResult(len(points), stored, duplicates, outside)

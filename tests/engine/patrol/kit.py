"""Helpers for the patrol tests: grid cell centres, a point, a batch, a local day's instants."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.models import GridCell

TZ = "Asia/Shanghai"
DAY = date(2026, 11, 25)  # conftest START is 09:00 on this day in Shanghai


def local(hhmm: str, day: date = DAY) -> datetime:
    h, m = hhmm.split(":")
    return datetime(day.year, day.month, day.day, int(h), int(m), tzinfo=ZoneInfo(TZ))


def cells(db, n: int) -> list[tuple[str, float, float]]:
    """``n`` grid cells: (code, centre lon, centre lat)."""
    with db.session() as s:
        rows = s.scalars(select(GridCell).order_by(GridCell.code).limit(n)).all()
        return [(c.code, (c.min_lon + c.max_lon) / 2, (c.min_lat + c.max_lat) / 2) for c in rows]


def point(at: datetime, lon: float, lat: float) -> dict:
    return {"at": at.isoformat(), "lon": lon, "lat": lat, "accuracy": 8}


def walk(start: datetime, places: list[tuple[str, float, float]], every: timedelta = timedelta(seconds=30),
         per_place: int = 3) -> list[dict]:
    """Points through ``places``, ``per_place`` in each, one ``every`` apart."""
    out, at = [], start
    for _code, lon, lat in places:
        for _ in range(per_place):
            out.append(point(at, lon, lat))
            at += every
    return out

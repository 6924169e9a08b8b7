"""Possible duplicates of a report being typed (``similar_open_cases``): open cases of the same
class within ``radius_m`` metres, or about the same component, reported in the last ``days`` days.

A bounding box in degrees narrows the rows in SQL (the case table's lon/lat columns); the exact
distance is the haversine formula on the few rows left, so no spatial database is needed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.model import Actor, CaseStatus
from engine.models import Case
from engine.queries.visibility import case_visibility_filter

EARTH_RADIUS_M = 6_371_000.0
RADIUS_M = 50.0
DAYS = 7
LIMIT = 5


@dataclass(frozen=True)
class SimilarCase:
    number: str
    class_code: str
    distance_m: float  # 0 for the same component
    created_at: datetime
    address: str


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def similar_open_cases(session: Session, actor: Actor | None, *, class_code: str, lon: float | None,
                       lat: float | None, component_id: str | None, at: datetime, radius_m: float = RADIUS_M,
                       days: int = DAYS, limit: int = LIMIT) -> list[SimilarCase]:
    """Open cases that may report the same problem, nearest first: for staff (``actor``) those they
    may see; for an anonymous reporter (``actor`` None) any, of which the page shows only how many."""
    near = []
    if lon is not None and lat is not None:
        dlat = radius_m / 111_320.0
        dlon = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 1e-6))
        near.append(and_(Case.class_code == class_code, Case.lon.between(lon - dlon, lon + dlon),
                         Case.lat.between(lat - dlat, lat + dlat)))
    if component_id:
        near.append(Case.component_id == component_id)
    if not near:
        return []
    rows = session.execute(select(Case.number, Case.class_code, Case.lon, Case.lat, Case.component_id,
                                  Case.created_at, Case.address)
                           .where(Case.status == CaseStatus.OPEN, Case.created_at >= at - timedelta(days=days),
                                  or_(*near), *([case_visibility_filter(actor)] if actor is not None else []))
                           .order_by(Case.created_at.desc()).limit(200)).all()
    found = []
    for number, code, clon, clat, component, created_at, address in rows:
        same_component = bool(component_id) and component == component_id
        d = 0.0 if same_component else distance_m(lon, lat, clon, clat) if lon is not None and lat is not None \
            else math.inf
        if same_component or (code == class_code and d <= radius_m):
            found.append(SimilarCase(number, code, round(d, 1), created_at, address))
    return sorted(found, key=lambda c: (c.distance_m, -c.created_at.timestamp()))[:limit]


__all__ = ["SimilarCase", "similar_open_cases", "distance_m", "RADIUS_M", "DAYS"]

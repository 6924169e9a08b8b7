"""A basemap without a tile server: the city's district, street and community outlines (the
seeded region geometries) drawn by the page as vector lines with their names, so a map is never
blank offline. Used only when no TILE_URL is configured; cached per database for a few minutes."""

from __future__ import annotations

from typing import Any

from cachetools import TTLCache
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Region
from web.geo_display import wkt_polygon_display

LEVELS = ("district", "street", "community")
_cache: TTLCache[tuple[str, str], list[dict[str, Any]]] = TTLCache(maxsize=16, ttl=300)


def outlines(session: Session, crs: str) -> list[dict[str, Any]]:
    """[{level, name, ring: [[lat, lon], …]}] for every region with a geometry, districts first."""
    bind = session.get_bind()
    key = (str(bind.engine.url), crs)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    rows = session.execute(select(Region.level, Region.name, Region.geometry)
                           .where(Region.geometry.is_not(None), Region.level.in_(LEVELS))).all()
    shapes = [{"level": level, "name": name, "ring": wkt_polygon_display(geometry, crs)}
              for level, name, geometry in sorted(rows, key=lambda r: LEVELS.index(r.level))]
    result = [s for s in shapes if s["ring"]]
    _cache[key] = result
    return result


def clear() -> None:
    """Forget the cached outlines (after an admin imports regions)."""
    _cache.clear()

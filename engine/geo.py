"""Geography: which unit grid cell (单元网格) a point lies in, and code validators.

Grid cells are WKT polygons in WGS-84 longitude/latitude. ``Locator`` indexes them with
shapely 2's ``STRtree``; ``get_locator(session)`` keeps one per database and rebuilds it when
the grid table changes.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from cachetools import LRUCache
from shapely import STRtree
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound, ValidationError
from engine.models import Component, GridCell

_GRID_CODE = re.compile(r"[0-9]{15}")
_COMPONENT_ID = re.compile(r"[0-9]{16}")


def is_grid_code(s: object) -> bool:
    """A unit grid cell code: 15 ASCII digits (6 division + 3 street + 3 community + 3 sequence)."""
    return isinstance(s, str) and _GRID_CODE.fullmatch(s) is not None


def is_component_id(s: object) -> bool:
    """A component id: 16 ASCII digits (6 division + 2 major + 2 minor + 6 serial)."""
    return isinstance(s, str) and _COMPONENT_ID.fullmatch(s) is not None


@dataclass(frozen=True)
class Location:
    grid_code: str
    community_code: str
    street_code: str
    district_code: str


def check_lon_lat(lon: Any, lat: Any) -> tuple[float, float]:
    """Validate a WGS-84 longitude/latitude pair and return it as floats."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValidationError(f"longitude and latitude must be numbers (got {lon!r}, {lat!r})",
                              {"lon": "not a number", "lat": "not a number"}) from None
    fields = {}
    if not (math.isfinite(x) and -180.0 <= x <= 180.0):
        fields["lon"] = "must be between -180 and 180"
    if not (math.isfinite(y) and -90.0 <= y <= 90.0):
        fields["lat"] = "must be between -90 and 90"
    if fields:
        raise ValidationError(f"point ({lon}, {lat}) is not a WGS-84 longitude/latitude: "
                              + "; ".join(f"{k} {v}" for k, v in fields.items()), fields)
    return x, y


class Locator:
    """A spatial index over grid cells (anything with code, community_code, street_code,
    district_code and a WKT ``geometry``, such as GridCell rows)."""

    def __init__(self, cells: Iterable[Any]) -> None:
        locations: list[Location] = []
        polygons: list[BaseGeometry] = []
        for cell in cells:
            try:
                geom = shapely.from_wkt(cell.geometry)
            except shapely.errors.ShapelyError as exc:
                raise ValidationError(f"grid cell {cell.code} has malformed WKT geometry: {exc}") from None
            if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
                raise ValidationError(f"grid cell {cell.code} needs a polygon geometry")
            polygons.append(geom)
            locations.append(Location(cell.code, cell.community_code, cell.street_code, cell.district_code))
        order = sorted(range(len(locations)), key=lambda i: locations[i].grid_code)
        self._locations = [locations[i] for i in order]
        self._polygons = [polygons[i] for i in order]
        self._by_code = {loc.grid_code: i for i, loc in enumerate(self._locations)}
        self._tree = STRtree(self._polygons)

    def __len__(self) -> int:
        return len(self._locations)

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """(min_lon, min_lat, max_lon, max_lat) of all cells, None when there are none."""
        if not self._polygons:
            return None
        b = shapely.total_bounds(self._polygons)
        return float(b[0]), float(b[1]), float(b[2]), float(b[3])

    def polygon(self, grid_code: str) -> BaseGeometry:
        try:
            return self._polygons[self._by_code[grid_code]]
        except KeyError:
            raise NotFound(f"no grid cell {grid_code}") from None

    def find(self, lon: Any, lat: Any) -> Location | None:
        """The cell covering the point, or None. On a shared edge the lowest code wins."""
        x, y = check_lon_lat(lon, lat)
        hits = self._tree.query(Point(x, y), predicate="intersects")
        if len(hits) == 0:
            return None
        return self._locations[int(min(hits))]

    def locate(self, lon: Any, lat: Any) -> Location:
        """The cell covering the point; ValidationError when it is outside the city's grid."""
        loc = self.find(lon, lat)
        if loc is None:
            if not self._locations:
                raise ValidationError("the city has no grid cells yet; seed or import a grid first",
                                      {"lon": "no grid", "lat": "no grid"})
            raise ValidationError(f"point ({lon}, {lat}) is outside every grid cell of the city",
                                  {"lon": "outside the city", "lat": "outside the city"})
        return loc


# --- per-database cache ------------------------------------------------------------------------

# database URL -> (grid signature, locator, monotonic time of the last check); bounded because
# tests and tools open many databases in one process. Every access holds _cache_lock.
_cache: LRUCache[str, tuple[tuple, Locator, float]] = LRUCache(maxsize=16)
_cache_lock = threading.Lock()


def _grid_signature(session: Session) -> tuple:
    count, max_code, min_code = session.execute(
        select(func.count(), func.max(GridCell.code), func.min(GridCell.code))).one()
    return int(count), max_code, min_code


def get_locator(session: Session, max_age: float = 0.0) -> Locator:
    """The Locator of the session's database, rebuilt when the grid table changed
    (checked cheaply by row count and min/max code). Call ``invalidate_locator()`` after an
    edit that keeps those (a redrawn cell)."""
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
    # ``max_age``: engine commands accept a locator up to a few seconds old without asking
    # (grids change rarely); other callers always check.
    if cached is not None and max_age > 0 and now - cached[2] < max_age:
        return cached[1]
    signature = _grid_signature(session)
    if cached is not None and cached[0] == signature:
        with _cache_lock:
            _cache[key] = (signature, cached[1], now)
        return cached[1]
    locator = Locator(session.scalars(select(GridCell).order_by(GridCell.code)))
    with _cache_lock:
        _cache[key] = (signature, locator, now)
    return locator


def invalidate_locator() -> None:
    """Forget every cached Locator (after editing grid geometry)."""
    with _cache_lock:
        _cache.clear()


def component_location(session: Session, component_id: str) -> tuple[Component, Location]:
    """A component and the grid cell it is registered in."""
    if not is_component_id(component_id):
        raise ValidationError(f"component id must be 16 digits (6 division + 2 major + 2 minor + "
                              f"6 serial), got {component_id!r}", {"component_id": "must be 16 digits"})
    component = session.get(Component, component_id)
    if component is None:
        raise NotFound(f"no component {component_id} in the inventory")
    cell = session.get(GridCell, component.grid_code)
    if cell is not None:
        return component, Location(cell.code, cell.community_code, cell.street_code, cell.district_code)
    return component, get_locator(session).locate(component.lon, component.lat)

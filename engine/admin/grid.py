"""Import regions and unit grid cells from GeoJSON, refused with named problems when wrong.

The file is a GeoJSON FeatureCollection in WGS-84 longitude/latitude (a shapefile converted with
``ogr2ogr -f GeoJSON -t_srs EPSG:4326`` is fine). Each feature has ``properties.code`` and
optionally ``properties.name``; the code's length says what it is (DOMAIN.md §5):

* 6 digits — a district (区, administrative division); 9 — a street (街道); 12 — a community (社区);
* 15 digits — a unit grid cell (单元网格): division + street + community + sequence.

Checks, all before anything is written (one problem list, nothing written when it is not empty):
codes of those lengths, all digits, each once; Polygon/MultiPolygon geometries that are valid;
each region's parent (the code's prefix) in the file or the database; no two cells overlapping
(touching edges are fine), in the file or against the cells already stored; and each district
in the file covered by its cells (the uncovered part named by its size and where it lies).
An existing region or cell with the same code is replaced. Geometry is shapely's, not ours.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
import shapely
from shapely import STRtree
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.admin.history import AdminKind, record, require_admin
from engine.errors import ValidationError
from engine.geo import invalidate_locator
from engine.model import Actor
from engine.models import GridCell, Region

MAX_FEATURES = 100_000
LEVELS = {6: "district", 9: "street", 12: "community", 15: "cell"}
# Shared area below this (square degrees, ≈ 1 m²) is rounding on a common edge, not an overlap.
OVERLAP_TOLERANCE = 1e-10
# Uncovered area below this share of the district is slivers from rounding.
COVER_TOLERANCE = 1e-6
_M_PER_DEGREE = 111_320.0
MAX_PROBLEMS = 50


class ProblemKind(StrEnum):
    NOT_GEOJSON = "not_geojson"
    BAD_CODE = "bad_code"
    DUPLICATE_CODE = "duplicate_code"
    BAD_GEOMETRY = "bad_geometry"
    NO_PARENT = "no_parent"
    OVERLAP = "overlap"
    UNCOVERED = "uncovered"
    EMPTY = "empty"


@dataclass(frozen=True)
class GridProblem:
    kind: ProblemKind
    codes: tuple[str, ...]
    detail: str = ""  # technical detail (shapely's reason, the JSON error)
    area_m2: int | None = None  # overlapping or uncovered area, roughly
    near: tuple[float, float] | None = None  # (lon, lat) of a point in the uncovered part

    def text(self) -> str:
        extra = [self.detail] if self.detail else []
        if self.area_m2 is not None:
            extra.append(f"about {self.area_m2} m²")
        if self.near is not None:
            extra.append(f"near ({self.near[0]:.5f}, {self.near[1]:.5f})")
        return f"{self.kind}: {', '.join(self.codes)}" + (f" ({'; '.join(extra)})" if extra else "")


class GridImportRefused(ValidationError):
    """The file has problems; nothing was written. ``problems`` names each."""

    def __init__(self, problems: list[GridProblem]) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"the grid file has {len(problems)} problem(s): {problems[0].text()}{more}")
        self.problems = problems


@dataclass
class _Parsed:
    regions: dict[str, tuple[str, BaseGeometry]] = field(default_factory=dict)  # code -> (name, geometry)
    cells: dict[str, BaseGeometry] = field(default_factory=dict)
    problems: list[GridProblem] = field(default_factory=list)


@dataclass(frozen=True)
class GridImportResult:
    districts: int
    streets: int
    communities: int
    cells: int
    replaced: int


def _parse(data: bytes) -> _Parsed:
    out = _Parsed()
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        out.problems.append(GridProblem(ProblemKind.NOT_GEOJSON, (), str(exc)))
        return out
    features = doc.get("features") if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" else None
    if not isinstance(features, list) or not features or len(features) > MAX_FEATURES:
        out.problems.append(GridProblem(ProblemKind.NOT_GEOJSON, (), f"a FeatureCollection of 1 to {MAX_FEATURES} "
                                                                    "features is expected"))
        return out
    for index, feature in enumerate(features):
        _parse_feature(out, index, feature)
    return out


def _parse_feature(out: _Parsed, index: int, feature: Any) -> None:
    props = feature.get("properties") if isinstance(feature, dict) else None
    code = str((props or {}).get("code", "")).strip()
    name = str((props or {}).get("name", "") or code)[:100]
    label = code or f"#{index + 1}"
    if not (code.isascii() and code.isdigit() and len(code) in LEVELS):
        out.problems.append(GridProblem(ProblemKind.BAD_CODE, (label,), "6, 9, 12 or 15 digits"))
        return
    if code in out.regions or code in out.cells:
        out.problems.append(GridProblem(ProblemKind.DUPLICATE_CODE, (code,)))
        return
    try:
        geom = shape(feature.get("geometry"))
    except (AttributeError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
        out.problems.append(GridProblem(ProblemKind.BAD_GEOMETRY, (code,), str(exc)[:200]))
        return
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        out.problems.append(GridProblem(ProblemKind.BAD_GEOMETRY, (code,), f"{geom.geom_type}, not a polygon"))
        return
    if not geom.is_valid:
        out.problems.append(GridProblem(ProblemKind.BAD_GEOMETRY, (code,), shapely.is_valid_reason(geom)))
        return
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        out.problems.append(GridProblem(ProblemKind.BAD_GEOMETRY, (code,), "not WGS-84 longitude/latitude"))
        return
    if len(code) == 15:
        out.cells[code] = geom
    else:
        out.regions[code] = (name, geom)


def _check_parents(session: Session, parsed: _Parsed) -> None:
    known = set(parsed.regions)
    wanted = {code[:-3] for code in [*parsed.regions, *parsed.cells] if len(code) > 6}
    stored = set(session.scalars(select(Region.code).where(Region.code.in_(wanted - known)))) if wanted else set()
    for code in sorted([*parsed.regions, *parsed.cells]):
        if len(code) > 6 and code[:-3] not in known | stored:
            parsed.problems.append(GridProblem(ProblemKind.NO_PARENT, (code, code[:-3])))


def _stored_cells(session: Session, replaced: set[str]) -> dict[str, BaseGeometry]:
    rows = session.execute(select(GridCell.code, GridCell.geometry))
    return {code: shapely.from_wkt(wkt) for code, wkt in rows if code not in replaced}


def _check_overlaps(parsed: _Parsed, stored: dict[str, BaseGeometry]) -> None:
    codes = list(parsed.cells) + list(stored)
    geoms = [parsed.cells[c] for c in parsed.cells] + [stored[c] for c in stored]
    tree = STRtree(geoms)
    n_new = len(parsed.cells)
    found = 0
    for i in range(n_new):
        for j in tree.query(geoms[i], predicate="intersects"):
            j = int(j)
            if j == i or (j < n_new and j < i):
                continue  # each pair of new cells once; self never
            shared = geoms[i].intersection(geoms[j]).area
            if shared > OVERLAP_TOLERANCE:
                pair = tuple(sorted((codes[i], codes[j])))
                parsed.problems.append(GridProblem(ProblemKind.OVERLAP, pair, area_m2=_square_metres(shared, geoms[i])))
                found += 1
                if found >= MAX_PROBLEMS:
                    return


def _square_metres(area_deg2: float, near: BaseGeometry) -> int:
    lat = near.centroid.y
    return round(area_deg2 * _M_PER_DEGREE * _M_PER_DEGREE * math.cos(math.radians(lat)))


def _check_cover(parsed: _Parsed, stored: dict[str, BaseGeometry]) -> None:
    """Each district in the file is covered by its cells (file and stored together)."""
    for code, (_name, district) in sorted(parsed.regions.items()):
        if len(code) != 6:
            continue
        mine = [g for c, g in [*parsed.cells.items(), *stored.items()] if c.startswith(code)]
        gap = district.difference(shapely.union_all(mine)) if mine else district
        if gap.area > COVER_TOLERANCE * district.area:
            point = gap.representative_point()
            minx, miny, maxx, maxy = gap.bounds
            parsed.problems.append(GridProblem(
                ProblemKind.UNCOVERED, (code,), f"lon {minx:.5f}–{maxx:.5f}, lat {miny:.5f}–{maxy:.5f}",
                area_m2=_square_metres(gap.area, gap), near=(round(point.x, 5), round(point.y, 5))))


def validate_grid(session: Session, data: bytes) -> _Parsed:
    parsed = _parse(data)
    if not parsed.problems and not parsed.cells and not parsed.regions:
        parsed.problems.append(GridProblem(ProblemKind.EMPTY, ()))
    if parsed.problems:
        return parsed
    _check_parents(session, parsed)
    stored = _stored_cells(session, set(parsed.cells))
    _check_overlaps(parsed, stored)
    _check_cover(parsed, stored)
    return parsed


def import_grid(session: Session, actor: Actor, now: datetime, data: bytes) -> GridImportResult:
    """Validate the whole file, then write regions and cells (replacing equal codes). Never commits."""
    require_admin(actor)
    parsed = validate_grid(session, data)
    if parsed.problems:
        raise GridImportRefused(parsed.problems[:MAX_PROBLEMS])
    replaced = _write(session, parsed)
    invalidate_locator()  # replaced geometry keeps the grid's count and codes: the cache cannot tell
    levels = [LEVELS[len(c)] for c in parsed.regions]
    result = GridImportResult(levels.count("district"), levels.count("street"), levels.count("community"),
                              len(parsed.cells), replaced)
    record(session, actor, now, AdminKind.GRID_IMPORTED, f"grid:{hashlib.sha256(data).hexdigest()[:16]}",
           {"replaced": replaced},
           {"sha256": hashlib.sha256(data).hexdigest(), "districts": result.districts, "streets": result.streets,
            "communities": result.communities, "cells": result.cells,
            "codes": sorted([*parsed.regions, *parsed.cells])[:200]})
    return result


def _write(session: Session, parsed: _Parsed) -> int:
    replaced = 0
    for code in sorted(parsed.regions, key=len):  # parents first
        name, geom = parsed.regions[code]
        row = session.get(Region, code)
        replaced += row is not None
        row = row or Region(code=code)
        row.name, row.level, row.geometry = name, LEVELS[len(code)], geom.wkt
        row.parent_code = code[:-3] if len(code) > 6 else None
        session.add(row)
    session.flush()
    for code, geom in parsed.cells.items():
        cell = session.get(GridCell, code)
        replaced += cell is not None
        cell = cell or GridCell(code=code)
        minx, miny, maxx, maxy = geom.bounds
        cell.community_code, cell.street_code, cell.district_code = code[:12], code[:9], code[:6]
        cell.geometry, cell.min_lon, cell.min_lat, cell.max_lon, cell.max_lat = geom.wkt, minx, miny, maxx, maxy
        session.add(cell)
    session.flush()
    return replaced

"""GeoJSON grid files for the import tests: a new district of 2 × 2 cells away from the demo city."""

from __future__ import annotations

from typing import Any

import orjson

LON0, LAT0, STEP = 121.50, 31.20, 0.001
DISTRICT, STREET, COMMUNITY = "310199", "310199001", "310199001001"


def rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def feature(code: str, geometry: dict[str, Any], name: str = "") -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": code, "name": name or code}, "geometry": geometry}


def cells(skip: int | None = None) -> list[dict[str, Any]]:
    out = []
    for i, (col, row) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
        if i == skip:
            continue
        x, y = LON0 + col * STEP, LAT0 + row * STEP
        out.append(feature(f"{COMMUNITY}{i + 1:03d}", rect(x, y, x + STEP, y + STEP)))
    return out


def district_file(extra: list[dict[str, Any]] | None = None, skip: int | None = None) -> bytes:
    whole = rect(LON0, LAT0, LON0 + 2 * STEP, LAT0 + 2 * STEP)
    regions = [feature(DISTRICT, whole, "新区"), feature(STREET, whole, "新街道"), feature(COMMUNITY, whole, "新社区")]
    return orjson.dumps({"type": "FeatureCollection", "features": regions + cells(skip) + (extra or [])})

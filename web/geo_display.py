"""Coordinates for map display: WGS-84 (stored) ⇄ GCJ-02 (the offset datum of most Chinese tiles).

Cases are stored in WGS-84. When the tile layer is GCJ-02 (config ``TILE_CRS = "GCJ02"``), points
and grid outlines are shifted with the public GCJ-02 formula before they are drawn, and points
picked on such a map are shifted back (by iteration) before they are stored. Outside mainland
China the offset is zero.
"""

from __future__ import annotations

import math

_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid used by the formula
_EE = 0.00669342162296594323  # its first eccentricity squared


def out_of_china(lon: float, lat: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _offset_lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    d_lat = _offset_lat(lon - 105.0, lat - 35.0)
    d_lon = _offset_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float, tolerance: float = 1e-9) -> tuple[float, float]:
    """The inverse, by fixed-point iteration (converges to ~1e-9° in a few steps)."""
    if out_of_china(lon, lat):
        return lon, lat
    w_lon, w_lat = lon, lat
    for _ in range(30):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        d_lon, d_lat = g_lon - lon, g_lat - lat
        w_lon, w_lat = w_lon - d_lon, w_lat - d_lat
        if abs(d_lon) < tolerance and abs(d_lat) < tolerance:
            break
    return w_lon, w_lat


def to_display(lon: float, lat: float, crs: str) -> tuple[float, float]:
    return wgs84_to_gcj02(lon, lat) if crs.upper() == "GCJ02" else (lon, lat)


def from_display(lon: float, lat: float, crs: str) -> tuple[float, float]:
    return gcj02_to_wgs84(lon, lat) if crs.upper() == "GCJ02" else (lon, lat)


def wkt_polygon_display(wkt: str | None, crs: str) -> list[list[float]]:
    """The outer ring of a WKT polygon as [[lat, lon], …] in display coordinates (Leaflet order)."""
    if not wkt:
        return []
    from shapely import wkt as shapely_wkt
    from shapely.geometry import MultiPolygon, Polygon

    try:
        geom = shapely_wkt.loads(wkt)
    except Exception:  # noqa: BLE001 - a broken geometry just isn't drawn
        return []
    if isinstance(geom, MultiPolygon):
        geom = max(geom.geoms, key=lambda g: g.area)
    if not isinstance(geom, Polygon):
        return []
    ring = []
    for x, y in geom.exterior.coords:
        dx, dy = to_display(x, y, crs)
        ring.append([round(dy, 7), round(dx, 7)])
    return ring

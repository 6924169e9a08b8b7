"""WGS-84 → GCJ-02 display shift (the public formula) and its inverse."""

from __future__ import annotations

import pytest

from web.geo_display import (
    from_display,
    gcj02_to_wgs84,
    out_of_china,
    to_display,
    wgs84_to_gcj02,
    wkt_polygon_display,
)


def test_known_pair():
    # The widely published reference pair (Beijing, Tiananmen area).
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)


@pytest.mark.parametrize("lon,lat", [(120.18736, 30.26895), (116.404, 39.915), (113.26, 23.13)])
def test_round_trip(lon, lat):
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert abs(g_lon - lon) > 1e-4  # a real shift of a few hundred metres
    back = gcj02_to_wgs84(g_lon, g_lat)
    assert back == pytest.approx((lon, lat), abs=1e-8)


def test_outside_china_is_unchanged():
    assert out_of_china(2.35, 48.85)
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


def test_display_helpers():
    assert to_display(120.1, 30.2, "WGS84") == (120.1, 30.2)
    assert to_display(120.1, 30.2, "gcj02") == wgs84_to_gcj02(120.1, 30.2)
    assert from_display(*to_display(120.1, 30.2, "GCJ02"), "GCJ02") == pytest.approx((120.1, 30.2), abs=1e-8)
    ring = wkt_polygon_display("POLYGON ((120 30, 120.001 30, 120.001 30.001, 120 30.001, 120 30))", "WGS84")
    assert ring[0] == [30.0, 120.0] and len(ring) == 5
    assert wkt_polygon_display("not wkt", "WGS84") == [] and wkt_polygon_display(None, "WGS84") == []

"""Maps are never blank: without a tile server the pages carry the city's district, street and
community outlines (drawn as a vector basemap); with one they carry none."""

from __future__ import annotations

import html as htmllib
import json
import re

from tests.web.webkit import login, make_app, supervisor_case


def _map(page: str) -> dict:
    match = re.search(r'data-map="([^"]+)"', page)
    assert match, "no map on the page"
    return json.loads(htmllib.unescape(match.group(1)))


def test_outlines_without_tiles_and_none_with_tiles(sqlite_city, clock):
    case = supervisor_case(sqlite_city, clock)
    client = make_app(sqlite_city, clock, TILE_URL="").test_client()
    login(client, "supervisor1")
    for url in (f"/cases/{case.number}", "/report/mobile"):
        data = _map(client.get(url).get_data(as_text=True))
        levels = {o["level"] for o in data["outlines"]}
        names = {o["name"] for o in data["outlines"] if o["level"] == "district"}
        assert levels == {"district", "street", "community"} and "东湖区" in names, url
        assert all(len(o["ring"]) >= 4 for o in data["outlines"])
    tiled = make_app(sqlite_city, clock, TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png").test_client()
    login(tiled, "supervisor1")
    assert _map(tiled.get(f"/cases/{case.number}").get_data(as_text=True))["outlines"] == []

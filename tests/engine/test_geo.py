"""Locator, code validators and component lookup, on a seeded demo city."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.db import make_engine, session_factory, transaction, upgrade
from engine.demo.seed import seed_demo
from engine.errors import NotFound, ValidationError
from engine.geo import (
    Location,
    Locator,
    component_location,
    get_locator,
    invalidate_locator,
    is_component_id,
    is_grid_code,
)
from engine.models import Component, GridCell


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    url = "sqlite:///" + str(tmp_path_factory.mktemp("geo") / "city.db")
    upgrade(url)
    engine = make_engine(url)
    factory = session_factory(engine)
    with transaction(factory) as s:
        summary = seed_demo(s, seed=7)
    yield factory, summary
    invalidate_locator()
    engine.dispose()


def test_code_validators():
    assert is_grid_code("330191001001001")
    assert not is_grid_code("33019100100100")
    assert not is_grid_code("33019100100100a")
    assert not is_grid_code("３３０１９１００１００１００１")  # full-width digits
    assert not is_grid_code(330191001001001)
    assert is_component_id("3301910101000001")
    assert not is_component_id("330191010100001")
    assert not is_component_id("3301910101000001\n")
    assert not is_component_id(None)


def test_locate_center_and_outside(city):
    factory, summary = city
    with factory() as s:
        locator = get_locator(s)
        loc = locator.locate(*summary["center"])
        assert isinstance(loc, Location)
        assert loc.grid_code == summary["center_grid_code"]
        assert loc.grid_code.startswith(loc.community_code)
        assert loc.community_code.startswith(loc.street_code)
        assert loc.street_code.startswith(loc.district_code)
        min_lon, min_lat, max_lon, max_lat = summary["bbox"]
        with pytest.raises(ValidationError, match="outside every grid cell of the city"):
            locator.locate(min_lon - 0.01, min_lat)
        with pytest.raises(ValidationError, match="outside every grid cell"):
            locator.locate(0.0, 0.0)


@pytest.mark.parametrize("lon,lat", [(181, 30), (120, -91), (float("nan"), 30), ("abc", 30), (None, 30),
                                     (float("inf"), 30)])
def test_locate_rejects_bad_coordinates(city, lon, lat):
    factory, _ = city
    with factory() as s:
        with pytest.raises(ValidationError):
            get_locator(s).locate(lon, lat)


def test_every_cell_locates_to_itself(city):
    factory, _ = city
    with factory() as s:
        locator = get_locator(s)
        cells = s.scalars(select(GridCell)).all()
        for cell in cells:
            lon = (cell.min_lon + cell.max_lon) / 2
            lat = (cell.min_lat + cell.max_lat) / 2
            assert locator.locate(lon, lat).grid_code == cell.code
        # On a shared edge or corner the lowest code among the touching cells wins.
        corner = cells[len(cells) // 2]
        touching = [c.code for c in cells
                    if c.min_lon <= corner.max_lon <= c.max_lon and c.min_lat <= corner.max_lat <= c.max_lat]
        assert len(touching) >= 2
        assert locator.locate(corner.max_lon, corner.max_lat).grid_code == min(touching)


def test_locator_cache_rebuilds_when_grid_changes(city):
    factory, _ = city
    with factory() as s:
        first = get_locator(s)
        assert get_locator(s) is first
        n = s.scalar(select(func.count()).select_from(GridCell))
        assert len(first) == n
        last = s.scalar(select(GridCell).order_by(GridCell.code.desc()).limit(1))
        s.add(GridCell(code=last.community_code + "999", community_code=last.community_code,
                       street_code=last.street_code, district_code=last.district_code,
                       geometry="POLYGON ((121 31, 121.001 31, 121.001 31.001, 121 31.001, 121 31))",
                       min_lon=121, min_lat=31, max_lon=121.001, max_lat=31.001))
        s.flush()
        rebuilt = get_locator(s)
        assert rebuilt is not first and len(rebuilt) == n + 1
        assert rebuilt.locate(121.0005, 31.0005).grid_code == last.community_code + "999"
        s.rollback()
        assert len(get_locator(s)) == n


def test_locator_rejects_bad_geometry():
    from types import SimpleNamespace

    def cell(wkt):
        return SimpleNamespace(code="330191001001001", community_code="330191001001",
                               street_code="330191001", district_code="330191", geometry=wkt)

    with pytest.raises(ValidationError, match="malformed"):
        Locator([cell("POLYGON ((1 2, 3")])
    with pytest.raises(ValidationError, match="polygon"):
        Locator([cell("POINT (1 2)")])


def test_empty_locator():
    locator = Locator([])
    assert len(locator) == 0 and locator.bounds is None
    with pytest.raises(ValidationError, match="no grid cells"):
        locator.locate(120.0, 30.0)


def test_component_location(city):
    factory, _ = city
    with factory() as s:
        comp = s.scalar(select(Component).order_by(Component.id).limit(1))
        found, loc = component_location(s, comp.id)
        assert found.id == comp.id
        assert loc.grid_code == comp.grid_code
        assert get_locator(s).locate(comp.lon, comp.lat) == loc
        with pytest.raises(ValidationError, match="16 digits"):
            component_location(s, "12345")
        with pytest.raises(ValidationError):
            component_location(s, "330191010100000x")
        with pytest.raises(NotFound):
            component_location(s, "9999999999999999")

"""Grid import: a valid file is written; a wrong one is refused with its problems named, nothing written."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import func, select

from engine.admin.grid import GridImportRefused, ProblemKind, import_grid
from engine.admin.history import entries
from engine.geo import get_locator
from engine.models import GridCell, Region
from tests.engine.admin.gridfiles import COMMUNITY, DISTRICT, LAT0, LON0, STEP, district_file, feature, rect


def _cell_count(s) -> int:
    return s.scalar(select(func.count()).select_from(GridCell))


def test_a_valid_district_is_imported_and_located(city, clock, admin):
    with city.session() as s:
        before = _cell_count(s)
        result = import_grid(s, admin, clock.now(), district_file())
    assert (result.districts, result.streets, result.communities, result.cells) == (1, 1, 1, 4)
    with city.session() as s:
        assert _cell_count(s) == before + 4
        assert s.get(Region, DISTRICT).level == "district"
        assert get_locator(s).locate(LON0 + STEP * 1.5, LAT0 + STEP * 0.5).grid_code == f"{COMMUNITY}002"
        assert [e.kind for e in entries(s)] == ["grid_imported"]


def _refusal(city, clock, admin, data: bytes) -> list:
    with city.session() as s:
        before = _cell_count(s), s.scalar(select(func.count()).select_from(Region))
    with pytest.raises(GridImportRefused) as err, city.session() as s:
        import_grid(s, admin, clock.now(), data)
    with city.session() as s:
        assert (_cell_count(s), s.scalar(select(func.count()).select_from(Region))) == before
        assert entries(s) == []
    return err.value.problems


def test_overlapping_cells_are_refused_with_both_codes(city, clock, admin):
    overlapping = feature(f"{COMMUNITY}009", rect(LON0 + STEP / 2, LAT0 + STEP / 2, LON0 + STEP * 1.5, LAT0 + STEP * 1.5))
    problems = _refusal(city, clock, admin, district_file([overlapping]))
    overlaps = {p.codes for p in problems if p.kind == ProblemKind.OVERLAP}
    assert overlaps == {(f"{COMMUNITY}00{i}", f"{COMMUNITY}009") for i in (1, 2, 3, 4)}
    assert all(p.area_m2 and p.area_m2 > 1000 for p in problems if p.kind == ProblemKind.OVERLAP)


def test_a_cell_overlapping_a_stored_cell_is_refused(city, clock, admin):
    with city.session() as s:
        stored = s.scalars(select(GridCell).order_by(GridCell.code).limit(1)).one()
        code, wkt = stored.code, stored.geometry
        parent = stored.community_code
    import shapely
    clone = feature(f"{parent}999", shapely.geometry.mapping(shapely.from_wkt(wkt)))
    problems = _refusal(city, clock, admin, orjson.dumps({"type": "FeatureCollection", "features": [clone]}))
    assert [(p.kind, p.codes) for p in problems] == [(ProblemKind.OVERLAP, tuple(sorted((code, f"{parent}999"))))]


def test_a_district_with_a_hole_is_refused_naming_the_place(city, clock, admin):
    problems = _refusal(city, clock, admin, district_file(skip=3))  # the north-east cell missing
    (gap,) = [p for p in problems if p.kind == ProblemKind.UNCOVERED]
    assert gap.codes == (DISTRICT,)
    lon, lat = gap.near
    assert LON0 + STEP < lon < LON0 + 2 * STEP and LAT0 + STEP < lat < LAT0 + 2 * STEP
    assert 9_000 < gap.area_m2 < 12_000  # about 100 m × 100 m


@pytest.mark.parametrize("bad,kind", [
    (feature("31019900100100", rect(0, 0, 1, 1)), ProblemKind.BAD_CODE),
    (feature("31019900100A001", rect(0, 0, 1, 1)), ProblemKind.BAD_CODE),
    (feature(f"{COMMUNITY}010", {"type": "Polygon", "coordinates": [[[121.6, 31.3], [121.7, 31.4], [121.7, 31.3],
                                                                      [121.6, 31.4], [121.6, 31.3]]]}),
     ProblemKind.BAD_GEOMETRY),  # a bow tie
    (feature(f"{COMMUNITY}011", {"type": "Point", "coordinates": [121.6, 31.3]}), ProblemKind.BAD_GEOMETRY),
    (feature("999999001001001", rect(100.0, 20.0, 100.001, 20.001)), ProblemKind.NO_PARENT),
])
def test_bad_features_are_named(city, clock, admin, bad, kind):
    problems = _refusal(city, clock, admin, district_file([bad]))
    assert any(p.kind == kind and p.codes[0] == bad["properties"]["code"] for p in problems)


def test_not_geojson_is_refused(city, clock, admin):
    assert _refusal(city, clock, admin, b"{nope")[0].kind == ProblemKind.NOT_GEOJSON

"""The demo city: minimum sizes, codes, geometry, determinism, refusal to seed twice."""

from __future__ import annotations

import hashlib
import json

import pytest
from shapely import from_wkt
from shapely.geometry import Point
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from engine.db import make_engine, session_factory, transaction, upgrade
from engine.demo.seed import DEMO_PASSWORD, seed_demo
from engine.errors import ValidationError
from engine.geo import get_locator, invalidate_locator, is_component_id, is_grid_code
from engine.models import Component, Department, GridCell, ProblemClass, Region, User
from engine.reference import load_classes, read_classes, read_handler_types

ROLES = {"supervisor", "acceptor", "shift_leader", "dispatcher", "handler", "leader", "auditor",
         "designer", "admin"}


def _fresh(path) -> tuple[str, object]:
    url = "sqlite:///" + str(path)
    upgrade(url)
    engine = make_engine(url)
    return url, engine


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    url, engine = _fresh(tmp_path_factory.mktemp("seed") / "city.db")
    factory = session_factory(engine)
    lines: list[str] = []
    with transaction(factory) as s:
        summary = seed_demo(s, seed=1, progress=lines.append)
    yield factory, summary, lines
    invalidate_locator()
    engine.dispose()


def _count(s, model) -> int:
    return s.scalar(select(func.count()).select_from(model))


def test_load_classes_is_idempotent(tmp_path):
    _, engine = _fresh(tmp_path / "c.db")
    factory = session_factory(engine)
    expected = read_classes()
    with transaction(factory) as s:
        assert load_classes(s) == len(expected)
    with transaction(factory) as s:
        assert load_classes(s) == len(expected)
        assert _count(s, ProblemClass) == len(expected)
        c = s.get(ProblemClass, "C0101")
        assert (c.kind, c.major, c.minor, c.handler_type, c.urgency, c.suggested_limit, c.suggested_unit) == \
            ("component", "01", "0101", "water_supply", "urgent", 4.0, "workhour")
        e = s.get(ProblemClass, "E0102")
        assert (e.kind, e.name, e.handler_type, e.suggested_unit) == ("event", "暴露垃圾", "sanitation", "workhour")
    engine.dispose()


def test_summary_and_minimum_counts(seeded):
    factory, summary, lines = seeded
    assert summary["city"] == "演示市"
    assert summary["districts"] == 3
    assert summary["grid_cells"] >= 1000
    assert summary["departments"] >= 20
    assert summary["components"] == 10_000
    n = summary["grid_cells"]
    assert f"grid cells {n}/{n}" in lines and "components 10000/10000" in lines
    with factory() as s:
        assert _count(s, GridCell) == summary["grid_cells"]
        assert _count(s, Department) == summary["departments"]
        assert _count(s, User) == summary["users"]
        assert _count(s, Component) == summary["components"]
        districts = s.scalars(select(Region).where(Region.level == "district")).all()
        assert sorted(d.code for d in districts) == ["330191", "330192", "330193"]
        for d in districts:
            streets = s.scalars(select(Region).where(Region.parent_code == d.code)).all()
            assert 3 <= len(streets) <= 4
            for st in streets:
                assert len(st.code) == 9 and st.code.startswith(d.code) and st.level == "street"
                comms = s.scalars(select(Region).where(Region.parent_code == st.code)).all()
                assert 3 <= len(comms) <= 4
                assert all(len(c.code) == 12 and c.code.startswith(st.code) for c in comms)
        min_lon, min_lat, max_lon, max_lat = summary["bbox"]
        assert 120.10 <= min_lon < max_lon <= 120.22 and 30.22 <= min_lat < max_lat <= 30.32


def test_grid_cells_codes_and_size(seeded):
    factory, _, _ = seeded
    with factory() as s:
        for cell in s.scalars(select(GridCell)):
            assert is_grid_code(cell.code)
            assert cell.code.startswith(cell.community_code)
            assert cell.community_code.startswith(cell.street_code)
            assert cell.street_code.startswith(cell.district_code)
            poly = from_wkt(cell.geometry)
            assert poly.is_valid
            assert poly.bounds == pytest.approx((cell.min_lon, cell.min_lat, cell.max_lon, cell.max_lat))
            # about 100 m × 100 m at 30.27° N
            assert 90 < (cell.max_lon - cell.min_lon) * 96_100 < 110
            assert 90 < (cell.max_lat - cell.min_lat) * 110_900 < 110
        # A community's geometry is the union of its cells.
        community = s.scalars(select(Region).where(Region.level == "community")).first()
        cells = s.scalars(select(GridCell).where(GridCell.community_code == community.code)).all()
        union_area = sum(from_wkt(c.geometry).area for c in cells)
        assert from_wkt(community.geometry).area == pytest.approx(union_area)


def test_components_lie_in_their_cells(seeded):
    factory, _, _ = seeded
    with factory() as s:
        cells = {c.code: from_wkt(c.geometry) for c in s.scalars(select(GridCell))}
        depts = {d.code: d for d in s.scalars(select(Department))}
        classes = {c.code: c for c in s.scalars(select(ProblemClass))}
        for comp in s.scalars(select(Component)):
            assert is_component_id(comp.id)
            cls = classes[comp.class_code]
            assert cls.kind == "component"
            assert comp.id[:6] == comp.grid_code[:6] and comp.id[6:10] == cls.minor
            assert cells[comp.grid_code].contains(Point(comp.lon, comp.lat))
            owners = json.loads(comp.owner_departments)
            assert len(owners) == 1
            dept = depts[owners[0]]
            assert dept.handler_type == cls.handler_type
            assert dept.district_code in (None, comp.id[:6])
        # litter bins belong to the district sanitation department
        bin_ = s.scalar(select(Component).where(Component.class_code == "C0305").limit(1))
        assert json.loads(bin_.owner_departments) == [f"sanitation@{bin_.id[:6]}"]


def test_departments(seeded):
    factory, _, _ = seeded
    with factory() as s:
        depts = {d.code: d for d in s.scalars(select(Department))}
    for ht in read_handler_types():
        assert depts[ht.code].name == ht.example_department and depts[ht.code].district_code is None
    for district in ("330191", "330192", "330193"):
        for ht in ("sanitation", "enforcement", "street_office"):
            d = depts[f"{ht}@{district}"]
            assert d.handler_type == ht and d.district_code == district
    assert depts["supervision_center"].name == "监督中心"
    assert depts["command_center"].name == "指挥中心"


def test_users_roles_and_hashed_passwords(seeded):
    factory, _, _ = seeded
    with factory() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        dept_codes = set(s.scalars(select(Department.code)))
    assert {u.role for u in users.values()} == ROLES
    for name in ("acceptor1", "shiftleader1", "dispatcher1", "leader1", "auditor1", "designer1", "admin1",
                 "handler_sanitation_330191", "leader_sanitation_330191", "handler_gas", "leader_gas"):
        assert name in users, name
    supervisors = [users[f"supervisor{i}"] for i in range(1, 7)]
    assert all(u.role == "supervisor" for u in supervisors)
    assert sorted(u.district_code for u in supervisors) == ["330191"] * 2 + ["330192"] * 2 + ["330193"] * 2
    assert users["shiftleader1"].role == "shift_leader"
    assert users["leader1"].department_code is None
    for code in dept_codes:
        leader = users[f"leader_{code.replace('@', '_')}"]
        assert leader.role == "leader" and leader.department_code == code
    handler = users["handler_sanitation_330191"]
    assert handler.role == "handler" and handler.department_code == "sanitation@330191"
    hashes = {u.password_hash for u in users.values()}
    assert all(h and h != DEMO_PASSWORD for h in hashes)
    for h in hashes:  # scrypt is deliberately slow: check each distinct hash once
        assert check_password_hash(h, DEMO_PASSWORD)
        assert not check_password_hash(h, "wrong")


def test_seeding_twice_is_refused_without_writing(seeded):
    factory, summary, _ = seeded
    with factory() as s:
        with pytest.raises(ValidationError, match="already holds a city"):
            seed_demo(s, seed=2)
        assert seed_demo(s, seed=2, if_empty=True)["skipped"] is True
        s.rollback()
    with factory() as s:
        assert _count(s, Component) == summary["components"]
        assert _count(s, GridCell) == summary["grid_cells"]


def test_center_locates(seeded):
    factory, summary, _ = seeded
    with factory() as s:
        loc = get_locator(s).locate(*summary["center"])
        assert s.get(GridCell, loc.grid_code) is not None


def _digest(factory) -> str:
    h = hashlib.sha256()
    with factory() as s:
        for code, geom in s.execute(select(GridCell.code, GridCell.geometry).order_by(GridCell.code)):
            h.update(f"{code}|{geom}\n".encode())
        for row in s.execute(select(Component.id, Component.class_code, Component.grid_code, Component.lon,
                                    Component.lat, Component.owner_departments).order_by(Component.id)):
            h.update(("|".join(map(repr, row)) + "\n").encode())
        for row in s.execute(select(Region.code, Region.name).order_by(Region.code)):
            h.update(("|".join(row) + "\n").encode())
    return h.hexdigest()


def test_same_seed_same_city(tmp_path):
    digests = []
    for name, seed in (("a.db", 5), ("b.db", 5), ("c.db", 6)):
        _, engine = _fresh(tmp_path / name)
        factory = session_factory(engine)
        with transaction(factory) as s:
            seed_demo(s, seed=seed)
        digests.append(_digest(factory))
        engine.dispose()
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]

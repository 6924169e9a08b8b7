"""A deterministic synthetic demo city, 演示市 (Demo City), for development, demos and tests.

The city lies at real WGS-84 coordinates in central Hangzhou so that map tiles look right,
but its districts, streets, communities, departments and people are fictional.

Layout: a regular lattice of unit grid cells of about 100 m × 100 m (0.00104° × 0.0009° at
30.27° N), 42 columns × 30 rows. 西园区 takes the north-west block, 东湖区 the north-east
block and 南山区 the southern strip; each district is cut into 3–4 street blocks and each
street into 3–4 community blocks (all rectangles), so a region's geometry is its rectangle,
which is exactly the union of its cells.

Codes (DOMAIN.md §5): district 6 digits (330191–330193), street = district + 3, community =
street + 3, grid cell = community + 3-digit sequence, component = district + 4-digit class
minor code + 6-digit serial.

Demo accounts all use the password ``demo1234`` (DEMO ONLY: never run ``seed demo`` on a
production database).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.models import Component, Department, GridCell, ProblemClass, Region, User
from engine.passwords import hash_password
from engine.reference import load_classes, read_handler_types

CITY_NAME = "演示市"
CITY_NAME_EN = "Demo City"
DEMO_PASSWORD = "demo1234"  # demo only

# The lattice: south-west corner, cell size, size in cells.
ORIGIN_LON = 120.165
ORIGIN_LAT = 30.255
CELL_DLON = 0.00104  # ≈ 100 m at 30.27° N
CELL_DLAT = 0.0009  # ≈ 100 m
COLUMNS = 42
ROWS = 30
COMPONENT_COUNT = 10_000


@dataclass(frozen=True)
class DistrictPlan:
    code: str
    name: str
    name_en: str
    # Block of the lattice: columns [col0, col1) and rows [row0, row1); row 0 is the south edge.
    col0: int
    col1: int
    row0: int
    row1: int
    street_names: tuple[str, ...]


DISTRICTS: tuple[DistrictPlan, ...] = (
    DistrictPlan("330191", "东湖区", "Donghu District", 21, 42, 12, 30,
                 ("临湖街道", "东岸街道", "望湖街道", "春晓街道")),
    DistrictPlan("330192", "西园区", "Xiyuan District", 0, 21, 12, 30,
                 ("园林街道", "西岭街道", "桂花街道", "竹溪街道")),
    DistrictPlan("330193", "南山区", "Nanshan District", 0, 42, 0, 12,
                 ("南岭街道", "山前街道", "松涛街道", "翠微街道")),
)

COMMUNITY_NAMES = ("花园", "新村", "河畔", "锦绣", "和平", "幸福", "光明", "长青", "文苑", "阳光",
                   "绿洲", "明珠")

# Handler types that also have one department per district (the rest are city-wide only).
DISTRICT_HANDLER_TYPES = ("sanitation", "enforcement", "street_office")

# The two centres of the "two axes" model; their handler_type is their code, which no class uses.
CENTRES = (
    ("supervision_center", "监督中心", "supervision centre"),
    ("command_center", "指挥中心", "command centre"),
)

# Relative frequency of component classes in the inventory (default 1).
COMPONENT_WEIGHTS = {
    "C0101": 4, "C0102": 4, "C0103": 4, "C0104": 3, "C0105": 2, "C0106": 2, "C0107": 2,
    "C0118": 8, "C0305": 6, "C0402": 8, "C0211": 3, "C0203": 2,
}

ROLE_NAMES = {
    "supervisor": "监督员", "acceptor": "受理员", "shift_leader": "值班长", "dispatcher": "派遣员",
    "handler": "处置员", "leader": "领导", "auditor": "审计员", "designer": "流程设计员", "admin": "管理员",
}


def _split(n: int, parts: int) -> list[int]:
    """Cut n into `parts` near-equal sizes, larger first: _split(14, 4) == [4, 4, 3, 3]."""
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def _lon(col: int) -> float:
    return round(ORIGIN_LON + col * CELL_DLON, 7)


def _lat(row: int) -> float:
    return round(ORIGIN_LAT + row * CELL_DLAT, 7)


def _rect_wkt(col0: int, row0: int, col1: int, row1: int) -> str:
    x0, y0, x1, y1 = _lon(col0), _lat(row0), _lon(col1), _lat(row1)
    return f"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


def department_code(handler_type: str, district_code: str | None = None) -> str:
    """``sanitation`` (city-wide) or ``sanitation@330191`` (district-level)."""
    return f"{handler_type}@{district_code}" if district_code else handler_type


def account_suffix(dept_code: str) -> str:
    """Department code as used in demo usernames: ``sanitation@330191`` → ``sanitation_330191``."""
    return dept_code.replace("@", "_")


def city_exists(session: Session) -> bool:
    """Whether the database already holds a city (regions, grid cells or departments)."""
    for model in (Region, GridCell, Department):
        if session.scalar(select(func.count()).select_from(model)):
            return True
    return False


def _blocks(col0: int, col1: int, row0: int, row1: int,
            parts: int) -> list[tuple[int, int, int, int]]:
    """Cut a block into `parts` strips across its longer side (west→east or north→south)."""
    width, height = col1 - col0, row1 - row0
    out = []
    if width >= height:
        c = col0
        for size in _split(width, parts):
            out.append((c, c + size, row0, row1))
            c += size
    else:
        r = row1
        for size in _split(height, parts):
            out.append((col0, col1, r - size, r))
            r -= size
    return out


@dataclass
class _Lattice:
    """The planned regions (one row dict per level) and grid cells, before insertion."""

    districts: list[dict] = field(default_factory=list)
    streets: list[dict] = field(default_factory=list)
    communities: list[dict] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)  # with private _col/_row keys, dropped on insert


def seed_demo(session: Session, *, seed: int = 1, progress: Callable[[str], None] | None = None,
              if_empty: bool = False) -> dict[str, Any]:
    """Create the demo city in an empty database; never commits.

    Raises ValidationError when the database already holds a city, unless ``if_empty`` (then
    returns ``{"skipped": True, …}`` and writes nothing). Loads the classification first when
    the database has no component classes. Deterministic for a given ``seed`` (except the
    password hash's salt).
    """
    say = progress or (lambda _line: None)
    if city_exists(session):
        if if_empty:
            return {"skipped": True, "city": CITY_NAME,
                    "reason": "the database already holds a city"}
        raise ValidationError("the database already holds a city; use a fresh database "
                              "(or pass --if-empty to skip seeding)")
    rng = random.Random(seed)  # drawn from in this order: regions, then components
    component_classes = _ensure_component_classes(session)
    lattice = _plan_lattice(rng)
    _insert_lattice(session, lattice, say)
    departments = _plan_departments()
    session.execute(insert(Department), departments)
    say(f"departments {len(departments)}/{len(departments)}")
    users = _insert_users(session, departments, say)
    _insert_saved_searches(session)
    components = _plan_components(rng, lattice.cells, component_classes, departments)
    for start in range(0, len(components), 2000):
        chunk = components[start:start + 2000]
        session.execute(insert(Component), chunk)
        say(f"components {start + len(chunk)}/{len(components)}")
    return _summary(seed, lattice, departments=len(departments), users=users, components=len(components))


# The dispatcher's and shift leader's 常用查询: last week's overdue manhole cases in 东湖区, one click.
DEMO_SAVED_SEARCHES = (("dispatcher1", "东湖区井盖上周超期", {"keyword": "井盖", "district": "330191",
                                                          "period": "last_week", "overdue": "1"}),
                       ("shiftleader1", "本周超期", {"period": "this_week", "overdue": "1"}))


def _insert_saved_searches(session: Session) -> None:
    from engine.queries.saved import save_search

    for username, name, filters in DEMO_SAVED_SEARCHES:
        # the demo city has no clock of its own: its reference data is stamped with one fixed instant
        save_search(session, username, name, filters, datetime(2026, 1, 1, tzinfo=UTC))


def _ensure_component_classes(session: Session) -> list[ProblemClass]:
    component_classes = _component_classes(session)
    if not component_classes:
        load_classes(session)
        component_classes = _component_classes(session)
    if not component_classes:
        raise ValidationError("no component classes to place in the inventory; check engine/data/classes.csv")
    return component_classes


def _plan_lattice(rng: random.Random) -> _Lattice:
    """Districts cut into 3–4 streets, streets into 3–4 communities, communities into unit cells."""
    lat = _Lattice()
    for d in DISTRICTS:
        lat.districts.append({"code": d.code, "name": d.name, "level": "district", "parent_code": None,
                              "geometry": _rect_wkt(d.col0, d.row0, d.col1, d.row1)})
        n_streets = rng.choice((3, 4))
        for si, (sc0, sc1, sr0, sr1) in enumerate(_blocks(d.col0, d.col1, d.row0, d.row1, n_streets)):
            street_code = f"{d.code}{si + 1:03d}"
            street_name = d.street_names[si]
            lat.streets.append({"code": street_code, "name": street_name, "level": "street",
                                "parent_code": d.code, "geometry": _rect_wkt(sc0, sr0, sc1, sr1)})
            n_comm = rng.choice((3, 4))
            names = rng.sample(COMMUNITY_NAMES, n_comm)
            for ci, (cc0, cc1, cr0, cr1) in enumerate(_blocks(sc0, sc1, sr0, sr1, n_comm)):
                community_code = f"{street_code}{ci + 1:03d}"
                lat.communities.append({"code": community_code,
                                        "name": f"{street_name.removesuffix('街道')}{names[ci]}社区",
                                        "level": "community", "parent_code": street_code,
                                        "geometry": _rect_wkt(cc0, cr0, cc1, cr1)})
                lat.cells.extend(_community_cells(community_code, street_code, d.code, (cc0, cc1, cr0, cr1)))
    return lat


def _community_cells(community_code: str, street_code: str, district_code: str,
                     block: tuple[int, int, int, int]) -> list[dict]:
    """The unit cells of one community block, numbered north to south, west to east."""
    col0, col1, row0, row1 = block
    cells = []
    seq = 0
    for row in range(row1 - 1, row0 - 1, -1):
        for col in range(col0, col1):
            seq += 1
            cells.append({
                "code": f"{community_code}{seq:03d}", "community_code": community_code,
                "street_code": street_code, "district_code": district_code,
                "geometry": _rect_wkt(col, row, col + 1, row + 1),
                "min_lon": _lon(col), "min_lat": _lat(row),
                "max_lon": _lon(col + 1), "max_lat": _lat(row + 1),
                "_col": col, "_row": row,
            })
    return cells


def _insert_lattice(session: Session, lat: _Lattice, say: Callable[[str], None]) -> None:
    n_regions = len(lat.districts) + len(lat.streets) + len(lat.communities)
    for level_rows in (lat.districts, lat.streets, lat.communities):
        session.execute(insert(Region), level_rows)
    say(f"regions {n_regions}/{n_regions} "
        f"({len(lat.districts)} districts, {len(lat.streets)} streets, {len(lat.communities)} communities)")
    cell_rows = [{k: v for k, v in c.items() if not k.startswith("_")} for c in lat.cells]
    for start in range(0, len(cell_rows), 500):
        chunk = cell_rows[start:start + 500]
        session.execute(insert(GridCell), chunk)
        say(f"grid cells {start + len(chunk)}/{len(cell_rows)}")


def _plan_departments() -> list[dict]:
    """One city-wide department per handler type, district ones for some types, and the two centres."""
    handler_types = {ht.code: ht for ht in read_handler_types()}
    departments: list[dict] = []
    for ht in handler_types.values():
        departments.append({"code": department_code(ht.code), "name": ht.example_department,
                            "name_en": ht.example_department_en, "handler_type": ht.code,
                            "district_code": None})
    for d in DISTRICTS:
        for code in DISTRICT_HANDLER_TYPES:
            local = handler_types.get(code)
            if local is None:
                continue
            departments.append({"code": department_code(code, d.code), "name": d.name + local.example_department,
                                "name_en": f"{d.name_en} {local.example_department_en}".strip(),
                                "handler_type": code, "district_code": d.code})
    for code, name, name_en in CENTRES:
        departments.append({"code": code, "name": name, "name_en": name_en, "handler_type": code,
                            "district_code": None})
    return departments


def _insert_users(session: Session, departments: list[dict], say: Callable[[str], None]) -> int:
    users = _demo_users(departments)
    taken = set(session.scalars(select(User.username).where(User.username.in_([u["username"] for u in users]))))
    if taken:
        raise ValidationError(f"demo user name(s) already taken: {', '.join(sorted(taken))}; "
                              "use a fresh database")
    # One salted scrypt hash of the published demo password, shared by the demo accounts:
    # hashing 70+ times would dominate seeding time and the password is public anyway.
    password_hash = hash_password(DEMO_PASSWORD)
    for u in users:
        u["password_hash"] = password_hash
    session.execute(insert(User), users)
    say(f"users {len(users)}/{len(users)}")
    return len(users)


def _plan_components(rng: random.Random, cells: list[dict], component_classes: list[ProblemClass],
                     departments: list[dict]) -> list[dict]:
    """COMPONENT_COUNT components in random cells, owned by the district's (else the city's) department."""
    dept_codes = {d["code"] for d in departments}

    def owner(handler_type: str, district_code: str) -> list[str]:
        for code in (department_code(handler_type, district_code), department_code(handler_type)):
            if code in dept_codes:
                return [code]
        return []

    weights = [COMPONENT_WEIGHTS.get(pc.code, 1) for pc in component_classes]
    serials: dict[tuple[str, str], int] = {}
    first_day = date(2005, 1, 1)
    span_days = (date(2023, 12, 31) - first_day).days
    components: list[dict] = []
    for _ in range(COMPONENT_COUNT):
        cell = cells[rng.randrange(len(cells))]
        pc = rng.choices(component_classes, weights)[0]
        district = cell["district_code"]
        serial = serials.get((district, pc.minor), 0) + 1
        serials[(district, pc.minor)] = serial
        lon = round(cell["min_lon"] + rng.uniform(0.05, 0.95) * CELL_DLON, 7)
        lat = round(cell["min_lat"] + rng.uniform(0.05, 0.95) * CELL_DLAT, 7)
        components.append({
            "id": f"{district}{pc.minor}{serial:06d}", "class_code": pc.code,
            "name": f"{pc.name} {serial:06d}", "grid_code": cell["code"], "lon": lon, "lat": lat,
            "owner_departments": json.dumps(owner(pc.handler_type, district)),
            "state": "normal", "source": "census",
            "installed_on": first_day + timedelta(days=rng.randrange(span_days + 1)),
        })
    return components


def _summary(seed: int, lat: _Lattice, *, departments: int, users: int, components: int) -> dict[str, Any]:
    cells = lat.cells
    middle = min(cells, key=lambda c: (abs(c["_col"] + 0.5 - COLUMNS / 2), abs(c["_row"] + 0.5 - ROWS / 2),
                                       c["code"]))
    center = [round((middle["min_lon"] + middle["max_lon"]) / 2, 7),
              round((middle["min_lat"] + middle["max_lat"]) / 2, 7)]
    return {
        "city": CITY_NAME,
        "city_en": CITY_NAME_EN,
        "seed": seed,
        "districts": len(lat.districts),
        "streets": len(lat.streets),
        "communities": len(lat.communities),
        "grid_cells": len(cells),
        "departments": departments,
        "users": users,
        "components": components,
        "bbox": [min(c["min_lon"] for c in cells), min(c["min_lat"] for c in cells),
                 max(c["max_lon"] for c in cells), max(c["max_lat"] for c in cells)],
        "center": center,
        "center_grid_code": middle["code"],
    }


def _component_classes(session: Session) -> list[ProblemClass]:
    return list(session.scalars(select(ProblemClass).where(
        ProblemClass.kind == "component", ProblemClass.active.is_(True)).order_by(ProblemClass.code)))


def _demo_users(departments: list[dict]) -> list[dict]:
    """The demo accounts (password hash added by the caller)."""
    users: list[dict] = []

    def add(username: str, role: str, display_name: str, *, department: str | None = None,
            district: str | None = None) -> None:
        users.append({"username": username, "display_name": display_name, "role": role,
                      "department_code": department, "district_code": district, "active": True,
                      "locale": None})

    n = 0
    for d in DISTRICTS:
        for _ in range(2):
            n += 1
            add(f"supervisor{n}", "supervisor", f"{ROLE_NAMES['supervisor']}{n}（{d.name}）", district=d.code)
    add("acceptor1", "acceptor", f"{ROLE_NAMES['acceptor']}1", department="supervision_center")
    add("shiftleader1", "shift_leader", f"{ROLE_NAMES['shift_leader']}1", department="supervision_center")
    add("dispatcher1", "dispatcher", f"{ROLE_NAMES['dispatcher']}1", department="command_center")
    centres = {code for code, _, _ in CENTRES}
    for dept in departments:
        if dept["code"] in centres:
            continue  # centres do not handle cases
        add(f"handler_{account_suffix(dept['code'])}", "handler", f"{dept['name']} {ROLE_NAMES['handler']}",
            department=dept["code"], district=dept["district_code"])
        # A second handler: the unit's leader assigns a task to one of them by name (engine.commands.assign).
        add(f"handler2_{account_suffix(dept['code'])}", "handler", f"{dept['name']} {ROLE_NAMES['handler']}2",
            department=dept["code"], district=dept["district_code"])
    for dept in departments:
        add(f"leader_{account_suffix(dept['code'])}", "leader", f"{dept['name']} {ROLE_NAMES['leader']}",
            department=dept["code"], district=dept["district_code"])
    add("leader1", "leader", f"{CITY_NAME}{ROLE_NAMES['leader']}")
    add("auditor1", "auditor", f"{ROLE_NAMES['auditor']}1")
    add("designer1", "designer", f"{ROLE_NAMES['designer']}1")
    add("designer2", "designer", f"{ROLE_NAMES['designer']}2")  # four eyes: one proposes, another approves
    add("admin1", "admin", f"{ROLE_NAMES['admin']}1")
    return users

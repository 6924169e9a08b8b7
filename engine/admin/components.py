"""Import components (部件) from CSV or GeoJSON, refused with named problems when wrong.

CSV (UTF-8, header row): ``id,class_code,name,lon,lat[,owners][,state][,installed_on]``;
``owners`` is up to 3 department codes separated by ``;``. GeoJSON: a FeatureCollection of Point
features whose properties hold the same names (the point gives lon/lat).

Checks before anything is written: 16-digit ids (6 division + 2 major + 2 minor + 6 serial,
DOMAIN.md §5), each once; a legacy component class whose 4 digits are the id's major + minor
(for a class of the 5-digit scheme the id cannot carry the code and only the class is checked);
a point inside the city's grid (the cell is found, not given); owners that exist. An id already
stored is replaced. Never commits.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.admin.history import AdminKind, record, require_admin
from engine.errors import ValidationError
from engine.geo import get_locator, is_component_id
from engine.model import Actor
from engine.models import Component, Department, ProblemClass

MAX_ROWS = 200_000
MAX_PROBLEMS = 50
STATES = ("normal", "damaged", "missing", "removed")


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1 = the first data row / feature
    id: str
    field: str
    reason: str

    def text(self) -> str:
        return f"row {self.row} ({self.id or '?'}): {self.field}: {self.reason}"


class ComponentImportRefused(ValidationError):
    def __init__(self, problems: list[RowProblem]) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"the component file has {len(problems)} problem(s): {problems[0].text()}{more}")
        self.problems = problems


@dataclass(frozen=True)
class ComponentImportResult:
    created: int
    replaced: int


def _rows_from_csv(data: bytes) -> list[dict[str, Any]]:
    text = data.decode("utf-8-sig")
    return [dict(r) for r in csv.DictReader(io.StringIO(text))]


def _rows_from_geojson(data: bytes) -> list[dict[str, Any]]:
    doc = orjson.loads(data)
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise ValueError("a GeoJSON FeatureCollection is expected")
    rows = []
    for feature in doc["features"]:
        props = dict(feature.get("properties") or {}) if isinstance(feature, dict) else {}
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        if isinstance(geom, dict) and geom.get("type") == "Point" and len(geom.get("coordinates") or []) >= 2:
            props["lon"], props["lat"] = geom["coordinates"][0], geom["coordinates"][1]
        if isinstance(props.get("owners"), list):
            props["owners"] = ";".join(str(o) for o in props["owners"])
        rows.append(props)
    return rows


def parse(data: bytes, filename: str) -> list[dict[str, Any]]:
    try:
        if filename.lower().endswith((".geojson", ".json")):
            rows = _rows_from_geojson(data)
        else:
            rows = _rows_from_csv(data)
    except (UnicodeDecodeError, ValueError, csv.Error, AttributeError) as exc:
        raise ComponentImportRefused([RowProblem(0, "", "file", f"cannot be read: {exc}"[:200])]) from None
    if not rows or len(rows) > MAX_ROWS:
        raise ComponentImportRefused([RowProblem(0, "", "file", f"1 to {MAX_ROWS} rows expected")])
    return rows


def _check_row(n: int, raw: dict[str, Any], classes: dict[str, ProblemClass], departments: set[str],
               locator: Any, seen: set[str], problems: list[RowProblem]) -> dict[str, Any] | None:
    cid = str(raw.get("id") or "").strip()
    bad = len(problems)

    def refuse(field: str, reason: str) -> None:
        problems.append(RowProblem(n, cid, field, reason))

    if not is_component_id(cid):
        refuse("id", "16 digits expected")
    elif cid in seen:
        refuse("id", "appears twice")
    seen.add(cid)
    pc = classes.get(str(raw.get("class_code") or "").strip())
    if pc is None or pc.kind != "component":
        refuse("class_code", "no such component class")
    elif is_component_id(cid) and pc.scheme == "legacy" and cid[6:10] != pc.minor:
        refuse("class_code", f"the id's major+minor {cid[6:10]} is not the class's {pc.minor}")
    owners = [o.strip() for o in str(raw.get("owners") or "").split(";") if o.strip()]
    if len(owners) > 3 or any(o not in departments for o in owners):
        refuse("owners", "up to 3 existing department codes")
    state = str(raw.get("state") or "normal").strip()
    if state not in STATES:
        refuse("state", "one of " + ", ".join(STATES))
    installed = str(raw.get("installed_on") or "").strip()
    try:
        installed_on = date.fromisoformat(installed) if installed else None
    except ValueError:
        refuse("installed_on", "a date YYYY-MM-DD")
    location = None
    try:
        location = locator.find(raw.get("lon"), raw.get("lat"))
        if location is None:
            refuse("lon/lat", "outside every grid cell")
    except ValidationError:
        refuse("lon/lat", "not a longitude/latitude")
    name = str(raw.get("name") or (pc.name if pc else "")).strip()[:100]
    if len(problems) > bad or location is None or pc is None:
        return None
    return {"id": cid, "class_code": pc.code, "name": name, "grid_code": location.grid_code,
            "lon": float(raw["lon"]), "lat": float(raw["lat"]), "owner_departments": json.dumps(owners),
            "state": state, "source": "import", "installed_on": installed_on}


def import_components(session: Session, actor: Actor, now: datetime, data: bytes,
                      filename: str) -> ComponentImportResult:
    require_admin(actor)
    rows = parse(data, filename)
    classes = {pc.code: pc for pc in session.scalars(select(ProblemClass))}
    departments = set(session.scalars(select(Department.code)))
    locator = get_locator(session)
    problems: list[RowProblem] = []
    seen: set[str] = set()
    good = []
    for n, raw in enumerate(rows, start=1):
        row = _check_row(n, raw, classes, departments, locator, seen, problems)
        if row is not None:
            good.append(row)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise ComponentImportRefused(problems)
    ids = [r["id"] for r in good]
    existing: set[str] = set()
    for start in range(0, len(ids), 500):  # bounded IN lists (SQLite's variable limit)
        existing |= set(session.scalars(select(Component.id).where(Component.id.in_(ids[start:start + 500]))))
    for row in good:
        session.merge(Component(**row))
    session.flush()
    result = ComponentImportResult(len(good) - len(existing), len(existing))
    record(session, actor, now, AdminKind.COMPONENTS_IMPORTED, f"components:{filename[:60]}",
           {"replaced": sorted(existing)[:200]},
           {"sha256": hashlib.sha256(data).hexdigest(), "created": result.created, "replaced": result.replaced,
            "ids": [r["id"] for r in good][:200]})
    return result


def components_in(session: Session, limit: int = 2000) -> tuple[int, list[Component]]:
    """(how many there are, an evenly spread sample of at most ``limit``) for the map view.

    Every k-th id, so a large inventory shows its spread over the city rather than its first district."""
    ids = list(session.scalars(select(Component.id).order_by(Component.id)))
    step = max(1, -(-len(ids) // limit))
    chosen = ids[::step][:limit]
    rows: list[Component] = []
    for start in range(0, len(chosen), 500):
        rows += session.scalars(select(Component).where(Component.id.in_(chosen[start:start + 500])))
    return len(ids), rows

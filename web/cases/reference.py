"""Small reference tables (regions, classes, departments) cached per database for a few minutes.

These tables are tiny and change rarely; caching them keeps each page to its own queries.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Department, ProblemClass, Region

TTL_SECONDS = 300.0


@dataclass(frozen=True)
class Reference:
    regions: dict[str, Any]  # code -> row(code, name, level, parent_code)
    classes: dict[str, Any]  # code -> ProblemClass row (code, kind, major, major_name, minor, name, name_en, active)
    departments: dict[str, Any]  # code -> row(code, name, name_en)


# database URL -> Reference, forgotten TTL_SECONDS after it was read; every access holds _lock
# (cachetools caches are not thread-safe).
_cache: TTLCache[str, Reference] = TTLCache(maxsize=64, ttl=TTL_SECONDS)
_lock = threading.Lock()


def reference(session: Session) -> Reference:
    key = str(session.get_bind().engine.url)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    regions = {r.code: r for r in session.execute(
        select(Region.code, Region.name, Region.level, Region.parent_code)
        .where(Region.level.in_(("district", "street"))).order_by(Region.code))}
    classes = {c.code: c for c in session.execute(
        select(ProblemClass.code, ProblemClass.kind, ProblemClass.major, ProblemClass.major_name,
               ProblemClass.minor, ProblemClass.name, ProblemClass.name_en, ProblemClass.active)
        .order_by(ProblemClass.code))}
    departments = {d.code: d for d in session.execute(
        select(Department.code, Department.name, Department.name_en).order_by(Department.code))}
    ref = Reference(regions, classes, departments)
    with _lock:
        _cache[key] = ref
    return ref


def clear() -> None:
    with _lock:
        _cache.clear()


def districts(ref: Reference) -> list[Any]:
    return [r for r in ref.regions.values() if r.level == "district"]


def streets(ref: Reference, district_code: str | None = None) -> list[Any]:
    return [r for r in ref.regions.values()
            if r.level == "street" and (district_code is None or r.parent_code == district_code)]


def region_name(ref: Reference, code: str | None) -> str:
    if not code:
        return ""
    row = ref.regions.get(code)
    return row.name if row else code

"""A few cases at different stages, districts and departments, shared by the read-side tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.model import EngineContext
from engine.models import GridCell
from tests.factories import CaseDriver

DEPT_A = "sanitation@330191"
DEPT_B = "sanitation@330192"


def cell_centre(db, district: str) -> tuple[float, float]:
    with db.session() as s:
        cell = s.scalars(select(GridCell).where(GridCell.district_code == district).order_by(GridCell.code)
                         .limit(1)).one()
        return (cell.min_lon + cell.max_lon) / 2, (cell.min_lat + cell.max_lat) / 2


@dataclass
class Cases:
    handle_a: CaseDriver  # handled by DEPT_A, district 330191
    handle_b: CaseDriver  # handled by DEPT_B, district 330192
    verify: CaseDriver  # waiting for a supervisor's check in 330193
    accept: CaseDriver  # waiting for an acceptor, district 330191


def _to_handle(db, clock, district: str, department: str, description: str) -> CaseDriver:
    lon, lat = cell_centre(db, district)
    driver = CaseDriver(db, EngineContext(clock))
    driver.start(lon=lon, lat=lat, description=description)
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": department})
    return driver


@pytest.fixture
def cases(city, clock) -> Cases:
    handle_a = _to_handle(city, clock, "330191", DEPT_A, "垃圾桶满溢 100% full bin")
    clock.advance(timedelta(minutes=5))
    handle_b = _to_handle(city, clock, "330192", DEPT_B, "路灯不亮 broken lamp")
    clock.advance(timedelta(minutes=5))
    lon, lat = cell_centre(city, "330193")
    verify = CaseDriver(city, EngineContext(clock))
    verify.start(lon=lon, lat=lat, source="hotline", description="井盖缺失 missing cover")
    clock.advance(timedelta(minutes=5))
    lon, lat = cell_centre(city, "330191")
    accept = CaseDriver(city, EngineContext(clock))
    accept.start(lon=lon, lat=lat, description="暴露垃圾 rubbish")
    accept.do("verify", {"verdict": "confirmed"})
    return Cases(handle_a, handle_b, verify, accept)

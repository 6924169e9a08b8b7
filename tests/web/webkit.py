"""Helpers for the web page tests: app and client factories, sign-in, places in the demo city."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import select

from engine.commands import start_case
from engine.model import Actor, EngineContext
from engine.models import GridCell, TaskRow
from tests.factories import report
from web.app import create_app

PASSWORD = "demo1234"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(db, clock, **overrides: Any):
    config: dict[str, Any] = {"DATABASE_URL": db.url, "TESTING": True, "CLOCK": clock, "SECRET_KEY": "test-secret",
                              "WTF_CSRF_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
                              # the walks sign admins and designers in by password; tests/web/test_second_factor.py
                              # covers the second step
                              "TOTP_ROLES": ""}
    config.update(overrides)
    app = create_app(config)
    return app


def login(client, username: str, password: str = PASSWORD):
    client.post("/logout")
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
    return response


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def cell_in(db, district: str) -> tuple[float, float]:
    """The centre of the first grid cell of a district."""
    with db.session() as s:
        cell = s.scalars(select(GridCell).where(GridCell.district_code == district).order_by(GridCell.code)
                         .limit(1)).one()
        return (cell.min_lon + cell.max_lon) / 2, (cell.min_lat + cell.max_lat) / 2


def supervisor_case(db, clock, district: str = "330191", **overrides: Any) -> dict[str, Any]:
    """A case reported by a supervisor (goes straight to the acceptor)."""
    lon, lat = cell_in(db, district)
    data = report(db.city, source="supervisor", lon=lon, lat=lat)
    data.update(overrides)
    with db.session() as s:
        return start_case(s, EngineContext(clock), data, Actor("supervisor1", "supervisor", None, district))


def tasks_of(db, case_id: int) -> list[TaskRow]:
    with db.session() as s:
        return list(s.scalars(select(TaskRow).where(TaskRow.case_id == case_id).order_by(TaskRow.spec_id)))


def task(db, case_id: int, spec_id: str) -> TaskRow:
    rows = [t for t in tasks_of(db, case_id) if t.spec_id == spec_id]
    assert rows, f"no {spec_id} task; open: {[t.spec_id for t in tasks_of(db, case_id)]}"
    return rows[0]


def jpeg_bytes(size: tuple[int, int] = (64, 48), gps: bool = False, fmt: str = "JPEG") -> bytes:
    from PIL import Image

    img = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "TestCam"  # Make
        gps_ifd = {1: "N", 2: (30.0, 15.0, 10.0), 3: "E", 4: (120.0, 10.0, 5.0)}
        exif[0x8825] = gps_ifd
        img.save(out, fmt, exif=exif)
    else:
        img.save(out, fmt)
    return out.getvalue()

"""Admin commands on departments and handling units (专业部门 / 处置单位): create, edit, deactivate.

A deactivated department keeps its row (cases and users refer to it) but gets no new users;
dispatch rules naming it must be changed in the designer. None of these commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.admin.history import AdminKind, record, require_admin
from engine.errors import Conflict, NotFound, ValidationError
from engine.model import Actor
from engine.models import Department, Region

_CODE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
_HANDLER_TYPE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@dataclass(frozen=True)
class DepartmentFields:
    name: str
    handler_type: str
    name_en: str = ""
    district_code: str | None = None


def snapshot(dept: Department) -> dict[str, Any]:
    return {"code": dept.code, "name": dept.name, "name_en": dept.name_en, "handler_type": dept.handler_type,
            "district_code": dept.district_code, "active": bool(dept.active)}


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.code)))


def _check(session: Session, fields: DepartmentFields) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not fields.name.strip() or len(fields.name) > 100:
        problems["name"] = "1 to 100 characters"
    if len(fields.name_en) > 100:
        problems["name_en"] = "at most 100 characters"
    if not _HANDLER_TYPE.match(fields.handler_type or ""):
        problems["handler_type"] = "lower-case letters, digits and _ (e.g. sanitation)"
    if fields.district_code:
        region = session.get(Region, fields.district_code)
        if region is None or region.level != "district":
            problems["district_code"] = "no such district"
    return problems


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        raise ValidationError("the department has problems: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                              problems)


def create_department(session: Session, actor: Actor, now: datetime, code: str,
                      fields: DepartmentFields) -> Department:
    require_admin(actor)
    code = (code or "").strip()
    problems = _check(session, fields)
    if not _CODE.match(code):
        problems["code"] = "2 to 64 letters, digits or . _ - @"
    elif session.get(Department, code) is not None:
        raise Conflict(f"department {code!r} exists already")
    _refuse(problems)
    dept = Department(code=code, name=fields.name.strip(), name_en=fields.name_en.strip(),
                      handler_type=fields.handler_type, district_code=fields.district_code or None, active=True)
    session.add(dept)
    session.flush()
    record(session, actor, now, AdminKind.DEPARTMENT_CREATED, code, None, snapshot(dept))
    return dept


def change_department(session: Session, actor: Actor, now: datetime, code: str, fields: DepartmentFields,
                      active: bool | None = None) -> Department:
    """Edit the fields; ``active=False`` deactivates, ``True`` reactivates, None leaves it."""
    require_admin(actor)
    dept = session.get(Department, code)
    if dept is None:
        raise NotFound(f"no department {code!r}")
    _refuse(_check(session, fields))
    before = snapshot(dept)
    dept.name, dept.name_en = fields.name.strip(), fields.name_en.strip()
    dept.handler_type, dept.district_code = fields.handler_type, fields.district_code or None
    if active is not None:
        dept.active = active
    session.flush()
    after = snapshot(dept)
    if after != before:
        record(session, actor, now, AdminKind.DEPARTMENT_CHANGED, code, before, after)
    return dept

"""Admin commands on problem classes (部件 / 事件), in both code schemes of DOMAIN.md §1/§5.

* ``legacy``: 4 digits = 2 major + 2 minor (GB/T 30428.2; ``minor`` holds all 4, e.g. 0101);
* ``platform5``: 5 digits = 2 major + 3 minor (城市运行管理服务平台, GB/T 47678.x; ``minor`` holds all 5).

The stored code is the kind prefix (``C`` component, ``E`` event) + the digits, so the schemes
never collide (C0101 vs C01001). A new class is reported and dispatched only when the dispatch
table (dispatch.dmn) maps it: the pages say so and link to the designer. Deactivating keeps the
row (cases refer to it); reports can no longer choose it. None of these commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.admin.history import AdminKind, record, require_admin
from engine.errors import Conflict, NotFound, ValidationError
from engine.model import UNITS, URGENCIES, Actor
from engine.models import ProblemClass
from engine.reference import KIND_PREFIX


class CodeScheme(StrEnum):
    LEGACY = "legacy"
    PLATFORM5 = "platform5"


DIGITS = {CodeScheme.LEGACY: 4, CodeScheme.PLATFORM5: 5}


@dataclass(frozen=True)
class ClassFields:
    major_name: str
    name: str
    handler_type: str
    suggested_limit: float
    suggested_unit: str
    urgency: str
    name_en: str = ""


def class_code(kind: str, digits: str) -> str:
    return KIND_PREFIX[kind] + digits


def scheme_of(digits: str) -> CodeScheme | None:
    for scheme, n in DIGITS.items():
        if len(digits) == n and digits.isascii() and digits.isdigit():
            return scheme
    return None


def snapshot(pc: ProblemClass) -> dict[str, Any]:
    return {"code": pc.code, "kind": pc.kind, "scheme": pc.scheme, "major": pc.major, "major_name": pc.major_name,
            "minor": pc.minor, "name": pc.name, "name_en": pc.name_en, "handler_type": pc.handler_type,
            "suggested_limit": pc.suggested_limit, "suggested_unit": pc.suggested_unit, "urgency": pc.urgency,
            "active": bool(pc.active)}


def list_classes(session: Session) -> list[ProblemClass]:
    return list(session.scalars(select(ProblemClass).order_by(ProblemClass.kind, ProblemClass.code)))


def _check(fields: ClassFields) -> dict[str, str]:
    problems: dict[str, str] = {}
    for name in ("major_name", "name"):
        value = getattr(fields, name).strip()
        if not value or len(value) > (50 if name == "major_name" else 100):
            problems[name] = "required" if not value else "too long"
    if not fields.handler_type or len(fields.handler_type) > 40:
        problems["handler_type"] = "required"
    if not (0 < fields.suggested_limit <= 10_000):
        problems["suggested_limit"] = "a number above 0 and at most 10000"
    if fields.suggested_unit not in UNITS:
        problems["suggested_unit"] = "not one of the allowed values"
    if fields.urgency not in URGENCIES:
        problems["urgency"] = "not one of the allowed values"
    return problems


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        raise ValidationError("the class has problems: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                              problems)


def _apply(pc: ProblemClass, fields: ClassFields) -> None:
    pc.major_name, pc.name, pc.name_en = fields.major_name.strip(), fields.name.strip(), fields.name_en.strip()
    pc.handler_type, pc.suggested_limit = fields.handler_type.strip(), float(fields.suggested_limit)
    pc.suggested_unit, pc.urgency = fields.suggested_unit, fields.urgency


def create_class(session: Session, actor: Actor, now: datetime, kind: str, digits: str,
                 fields: ClassFields) -> ProblemClass:
    """``digits``: 4 (legacy) or 5 (newer platform scheme); the scheme follows from the length."""
    require_admin(actor)
    digits = (digits or "").strip()
    problems = _check(fields)
    if kind not in KIND_PREFIX:
        problems["kind"] = "not one of the allowed values"
    scheme = scheme_of(digits)
    if scheme is None:
        problems["digits"] = "4 digits (legacy scheme) or 5 digits (newer scheme)"
    _refuse(problems)
    assert scheme is not None
    code = class_code(kind, digits)
    if session.get(ProblemClass, code) is not None:
        raise Conflict(f"class {code} exists already")
    pc = ProblemClass(code=code, kind=kind, scheme=str(scheme), major=digits[:2], minor=digits, active=True)
    _apply(pc, fields)
    session.add(pc)
    session.flush()
    record(session, actor, now, AdminKind.CLASS_CREATED, code, None, snapshot(pc))
    return pc


def change_class(session: Session, actor: Actor, now: datetime, code: str, fields: ClassFields,
                 active: bool | None = None) -> ProblemClass:
    require_admin(actor)
    pc = session.get(ProblemClass, code)
    if pc is None:
        raise NotFound(f"no class {code!r}")
    _refuse(_check(fields))
    before = snapshot(pc)
    _apply(pc, fields)
    if active is not None:
        pc.active = active
    session.flush()
    after = snapshot(pc)
    if after != before:
        record(session, actor, now, AdminKind.CLASS_CHANGED, code, before, after)
    return pc


_QUOTED_CODE = re.compile(r'"([CE][0-9]{4,5})"')


def classes_without_dispatch_rule(session: Session) -> set[str]:
    """Active classes that the active dispatch table (dispatch.dmn) names in none of its rules.

    A FEEL string literal of the class code anywhere in the table counts as naming it; such a class
    is still reported, but the dispatcher gets no suggested department. Empty without a deployment."""
    from engine.designer.lifecycle import active_id, version_files

    version = active_id(session)
    if version is None:
        return set()
    table = next((text for name, text in version_files(session, version).items() if name.endswith("dispatch.dmn")),
                 None)
    if table is None:
        return set()
    named = set(_QUOTED_CODE.findall(table))
    return {pc.code for pc in session.scalars(select(ProblemClass).where(ProblemClass.active.is_(True)))
            if pc.code not in named}

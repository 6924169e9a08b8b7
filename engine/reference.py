"""Reference data the project owns: the problem classification and the kinds of handling unit.

The seed files live in ``engine/data/``. They only *seed* editable tables: cities change
classes, limits and urgencies afterwards through the admin pages.

Class codes follow the legacy 4-digit scheme (major + minor) with a kind prefix:
``"C" + minor`` for components (部件, e.g. ``C0101``) and ``"E" + minor`` for events
(事件, e.g. ``E0102``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.model import UNITS, URGENCIES
from engine.models import ProblemClass

DATA_DIR = Path(__file__).resolve().parent / "data"
CLASSES_CSV = DATA_DIR / "classes.csv"
HANDLER_TYPES_CSV = DATA_DIR / "handler_types.csv"

KIND_PREFIX = {"component": "C", "event": "E"}

_CLASS_COLUMNS = ("kind", "major", "major_name", "minor", "minor_name", "name_en", "handler_type",
                  "suggested_limit", "suggested_unit", "urgency")
_HANDLER_COLUMNS = ("handler_type", "example_department", "example_department_en")


@dataclass(frozen=True)
class ClassRow:
    """One line of classes.csv, validated."""

    code: str
    kind: str
    major: str
    major_name: str
    minor: str
    name: str
    name_en: str
    handler_type: str
    suggested_limit: float
    suggested_unit: str
    urgency: str


@dataclass(frozen=True)
class HandlerType:
    """One line of handler_types.csv: a kind of handling unit with an example name."""

    code: str
    example_department: str
    example_department_en: str


def class_code(kind: str, minor: str) -> str:
    """``class_code("component", "0101") == "C0101"``."""
    try:
        return KIND_PREFIX[kind] + minor
    except KeyError:
        raise ValidationError(f"unknown class kind {kind!r}; use component or event") from None


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError(f"{path.name}: missing column(s) {', '.join(missing)}")
        rows = []
        for row in reader:
            if not any((v or "").strip() for v in row.values()):
                continue
            rows.append((reader.line_num, {c: (row[c] or "").strip() for c in columns}))
        return rows


def read_classes(path: Path = CLASSES_CSV) -> list[ClassRow]:
    """Parse and validate the classification file; errors name the file and line."""
    result: list[ClassRow] = []
    seen: set[str] = set()
    for line, row in _read_csv(path, _CLASS_COLUMNS):
        where = f"{path.name} line {line}"
        kind = row["kind"]
        if kind not in KIND_PREFIX:
            raise ValidationError(f"{where}: kind must be component or event, not {kind!r}")
        major, minor = row["major"], row["minor"]
        if not re.fullmatch(r"[0-9]{2}", major) or not re.fullmatch(r"[0-9]{4}", minor) \
                or not minor.startswith(major):
            raise ValidationError(f"{where}: major must be 2 digits and minor 4 digits starting with it "
                                  f"(got {major!r}, {minor!r})")
        if row["suggested_unit"] not in UNITS:
            raise ValidationError(f"{where}: suggested_unit must be one of {', '.join(sorted(UNITS))}")
        if row["urgency"] not in URGENCIES:
            raise ValidationError(f"{where}: urgency must be one of {', '.join(sorted(URGENCIES))}")
        try:
            limit = float(row["suggested_limit"])
        except ValueError:
            raise ValidationError(f"{where}: suggested_limit must be a number") from None
        if not limit > 0:
            raise ValidationError(f"{where}: suggested_limit must be positive")
        if not row["minor_name"] or not row["handler_type"]:
            raise ValidationError(f"{where}: minor_name and handler_type are required")
        code = class_code(kind, minor)
        if code in seen:
            raise ValidationError(f"{where}: class {code} appears twice")
        seen.add(code)
        result.append(ClassRow(code=code, kind=kind, major=major, major_name=row["major_name"],
                               minor=minor, name=row["minor_name"], name_en=row["name_en"],
                               handler_type=row["handler_type"], suggested_limit=limit,
                               suggested_unit=row["suggested_unit"], urgency=row["urgency"]))
    return result


def read_handler_types(path: Path = HANDLER_TYPES_CSV) -> list[HandlerType]:
    """Parse the kinds of handling unit, in file order."""
    result: list[HandlerType] = []
    seen: set[str] = set()
    for line, row in _read_csv(path, _HANDLER_COLUMNS):
        code = row["handler_type"]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", code):
            raise ValidationError(f"{path.name} line {line}: handler_type must be lower_snake_case, "
                                  f"not {code!r}")
        if code in seen:
            raise ValidationError(f"{path.name} line {line}: handler_type {code} appears twice")
        seen.add(code)
        result.append(HandlerType(code=code, example_department=row["example_department"] or code,
                                  example_department_en=row["example_department_en"]))
    return result


def load_classes(session: Session, path: Path = CLASSES_CSV) -> int:
    """Insert or update ProblemClass rows from the classification file; returns the rows upserted.

    Idempotent. Updates overwrite the file's fields but keep ``active`` (an admin's choice).
    Never commits.
    """
    rows = read_classes(path)
    existing = {pc.code: pc for pc in session.scalars(
        select(ProblemClass).where(ProblemClass.code.in_([r.code for r in rows])))}
    for r in rows:
        values = {"kind": r.kind, "scheme": "legacy", "major": r.major, "major_name": r.major_name,
                  "minor": r.minor, "name": r.name, "name_en": r.name_en, "handler_type": r.handler_type,
                  "suggested_limit": r.suggested_limit, "suggested_unit": r.suggested_unit,
                  "urgency": r.urgency}
        pc = existing.get(r.code)
        if pc is None:
            session.add(ProblemClass(code=r.code, active=True, **values))
        else:
            for key, value in values.items():
                if getattr(pc, key) != value:
                    setattr(pc, key, value)
    session.flush()
    return len(rows)

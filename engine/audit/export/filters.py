"""What an export covers: a period of report dates in the city's time zone, and optional codes.

The rule, stated once: a case belongs to the period when it was *reported* (its start event,
the same instant as ``case_record.created_at``) between local midnight of ``date_from`` and
local midnight after ``date_to`` — both dates inclusive. A case reported at 23:30 local time on
the last day is in; one reported at 00:00 local time on the day after is not. All of a
selected case's events are exported, including those after the period.

The district and class filters compare the case's codes; the department filter compares the
case's responsible department (the one it was last dispatched to).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.models import Case, Department, ProblemClass, Region


class ExportFormat(StrEnum):
    XES = "xes"
    CSV = "csv"
    OCEL = "ocel"


PERIOD_RULE = ("A case is in the period when it was reported (its start event) between 00:00 of "
               "--from and 24:00 of --to in the city's time zone (both dates inclusive); all its "
               "events are exported. --district and --class match the case's codes, --department "
               "the department the case was last dispatched to.")


@dataclass(frozen=True)
class ExportFilters:
    date_from: date
    date_to: date
    timezone: str = "Asia/Shanghai"
    district: str | None = None
    class_code: str | None = None
    department: str | None = None

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as a half-open UTC interval [start, end)."""
        tz = ZoneInfo(self.timezone)
        start = datetime.combine(self.date_from, time.min, tz)
        end = datetime.combine(self.date_to + timedelta(days=1), time.min, tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def where(self) -> list:
        """The SQL conditions on ``case_record`` (used by the reader and its count)."""
        start, end = self.bounds()
        conds = [Case.created_at >= start, Case.created_at < end]
        if self.district:
            conds.append(Case.district_code == self.district)
        if self.class_code:
            conds.append(Case.class_code == self.class_code)
        if self.department:
            conds.append(Case.department_code == self.department)
        return conds

    def as_dict(self) -> dict[str, str | None]:
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), "timezone": self.timezone,
                "district": self.district, "class": self.class_code, "department": self.department}


def parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a date like 2026-03-01, not {value!r}", {name: "YYYY-MM-DD"}) from None


def check_filters(session: Session, filters: ExportFilters) -> None:
    """Refuse a reversed period, an unknown time zone and codes the city does not have."""
    errors: dict[str, str] = {}
    if filters.date_from > filters.date_to:
        errors["to"] = f"the period ends ({filters.date_to}) before it starts ({filters.date_from})"
    try:
        ZoneInfo(filters.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"unknown time zone {filters.timezone!r}"
    if filters.district and session.scalar(select(Region.code).where(
            Region.code == filters.district, Region.level == "district")) is None:
        errors["district"] = f"unknown district code {filters.district!r}"
    if filters.class_code and session.get(ProblemClass, filters.class_code) is None:
        errors["class"] = f"unknown class code {filters.class_code!r}"
    if filters.department and session.get(Department, filters.department) is None:
        errors["department"] = f"unknown department code {filters.department!r}"
    if errors:
        raise ValidationError("cannot export: " + "; ".join(errors.values()), errors)

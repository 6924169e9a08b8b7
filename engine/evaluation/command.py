"""The command screen's figures (指挥大屏): today's counts, department lights, open cases per grid
cell and the latest reports — each one aggregate query, so the screen stays quick with 100,000
open cases (the map gets one point per grid cell, never one per case).

Today's counts come from the history events of the local day (the decisions matched in their
canonical JSON, so no row is parsed); lights and open cases are the live state (task rows, case
status), which is what a command centre watches.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from engine.model import OPEN_STATUSES, EventKind, Light, Role
from engine.models import Case, Department, Event, GridCell, ProblemClass, TaskRow
from engine.queries.lights import light_conditions

LATEST = 12


@dataclass(frozen=True)
class TodayCounts:
    reported: int
    filed: int
    dispatched: int
    handled: int
    closed: int
    overdue: int  # open handling tasks past their deadline now


@dataclass(frozen=True)
class DepartmentLights:
    code: str
    name: str
    green: int
    yellow: int
    red: int


@dataclass(frozen=True)
class GridPoint:
    grid: str
    lat: float
    lon: float
    open: int
    overdue: int


@dataclass(frozen=True)
class LatestReport:
    number: str
    at: datetime
    local_time: str  # HH:MM in the city's time zone
    class_name: str
    district_code: str
    source: str


@dataclass(frozen=True)
class CommandView:
    at: datetime
    today: TodayCounts
    departments: list[DepartmentLights]
    grid: list[GridPoint]
    latest: list[LatestReport]
    open_cases: int

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat()
        for r in out["latest"]:
            r["at"] = r["at"].isoformat()
        return out


def _form_has(field: str, value: str) -> Any:
    # Event data is canonical JSON (sorted keys, no spaces), so a form value is this exact text.
    return Event.data.contains(f'"{field}":"{value}"')


def _case_in(district: str | None) -> list[Any]:
    return [] if district is None else [Case.district_code == district]


def _task_in(district: str | None) -> list[Any]:
    return [] if district is None else [TaskRow.district_code == district]


def _event_in(district: str | None) -> list[Any]:
    if district is None:
        return []
    return [Event.case_id.in_(select(Case.id).where(Case.district_code == district))]


def today_counts(session: Session, now: datetime, tz: str, district: str | None = None) -> TodayCounts:
    start = datetime.combine(now.astimezone(ZoneInfo(tz)).date(), time(0), ZoneInfo(tz))
    spec = Event.task_spec
    done = Event.kind == EventKind.COMPLETE

    def n(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    self_closed = and_(done, spec == "confirm_self_handled", _form_has("decision", "close"))
    row = session.execute(select(
        n(Event.kind == EventKind.START),
        n(or_(and_(done, spec == "file", _form_has("decision", "file")), self_closed)),
        n(and_(done, spec == "dispatch")),
        n(and_(done, spec == "handle", _form_has("outcome", "done"))),
        n(or_(and_(done, spec == "close"), self_closed)),
    ).where(Event.at >= start, Event.at <= now, *_event_in(district))).one()
    overdue = session.scalar(select(func.count()).select_from(TaskRow).where(
        TaskRow.role == Role.HANDLER, light_conditions(now)[Light.RED], *_task_in(district))) or 0
    reported, filed, dispatched, handled, closed = (int(v) for v in row)
    return TodayCounts(reported, filed, dispatched, handled, closed, int(overdue))


def department_lights(session: Session, now: datetime, district: str | None = None) -> list[DepartmentLights]:
    conds = light_conditions(now)
    cols = [func.sum(case((conds[light], 1), else_=0)) for light in (Light.GREEN, Light.YELLOW, Light.RED)]
    stmt = (select(TaskRow.department_code, *cols).where(TaskRow.role == Role.HANDLER, *_task_in(district))
            .group_by(TaskRow.department_code))
    names = {r.code: r.name for r in session.execute(select(Department.code, Department.name))}
    out = [DepartmentLights(code or "", names.get(code or "", code or ""), int(g or 0), int(y or 0), int(r or 0))
           for code, g, y, r in session.execute(stmt)]
    return sorted(out, key=lambda d: (-d.red, -d.yellow, d.code))


def open_by_grid(session: Session, now: datetime, district: str | None = None) -> list[GridPoint]:
    overdue = (select(TaskRow.case_id).where(TaskRow.due_at.is_not(None), TaskRow.due_at <= now)
               .distinct().subquery())
    stmt = (select(Case.grid_code, func.count(Case.id), func.count(overdue.c.case_id),
                   GridCell.min_lat, GridCell.max_lat, GridCell.min_lon, GridCell.max_lon)
            .join(GridCell, GridCell.code == Case.grid_code)
            .outerjoin(overdue, overdue.c.case_id == Case.id)
            .where(Case.status.in_(OPEN_STATUSES), *_case_in(district))
            .group_by(Case.grid_code, GridCell.min_lat, GridCell.max_lat, GridCell.min_lon, GridCell.max_lon))
    return [GridPoint(code, round((a + b) / 2, 6), round((c + d) / 2, 6), int(n), int(o))
            for code, n, o, a, b, c, d in session.execute(stmt)]


def latest_reports(session: Session, tz: str, limit: int = LATEST, district: str | None = None) -> list[LatestReport]:
    stmt = (select(Case.number, Case.created_at, func.coalesce(ProblemClass.name, Case.class_code),
                   Case.district_code, Case.source)
            .outerjoin(ProblemClass, ProblemClass.code == Case.class_code).where(*_case_in(district))
            .order_by(Case.created_at.desc(), Case.id.desc()).limit(limit))
    zone = ZoneInfo(tz)
    return [LatestReport(number, at, f"{at.astimezone(zone):%H:%M}", name, district, source)
            for number, at, name, district, source in session.execute(stmt)]


def command_view(session: Session, now: datetime, tz: str, district: str | None = None) -> CommandView:
    """The wall screen's figures: the whole city, or one district sub-center's (issue 15)."""
    grid = open_by_grid(session, now, district)
    return CommandView(now, today_counts(session, now, tz, district), department_lights(session, now, district),
                       grid, latest_reports(session, tz, district=district), sum(g.open for g in grid))


__all__ = ["CommandView", "DepartmentLights", "GridPoint", "LatestReport", "TodayCounts", "command_view"]

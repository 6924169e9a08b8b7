"""Where supervisors went: the track of a day and the grid cells visited (网格覆盖).

A day is the city's local date. Coverage of a day = the distinct cells the user's positions fell
in; of the roster's cells, those visited are *covered*. The evaluation counts cell-days
(``patrol_counts``): a cell visited on three days counts three times, as a patrol does."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.patrol.models import Position
from engine.patrol.roster import shifts_between


@dataclass(frozen=True)
class TrackPoint:
    at: datetime
    lon: float
    lat: float
    grid_code: str | None


@dataclass(frozen=True)
class DayCoverage:
    username: str
    day: date
    visited: frozenset[str]
    assigned: frozenset[str]

    @property
    def covered(self) -> frozenset[str]:
        return self.visited & self.assigned


@dataclass(frozen=True)
class PatrolCounts:
    """Cell-days of one supervisor over a period (evaluation: engine.evaluation.compute)."""

    visited: int
    assigned: int
    covered: int


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tz)


def track(session: Session, username: str, day: date, timezone: str) -> list[TrackPoint]:
    start, end = day_bounds(day, timezone)
    rows = session.execute(select(Position.at, Position.lon, Position.lat, Position.grid_code)
                           .where(Position.username == username, Position.at >= start, Position.at < end)
                           .order_by(Position.at))
    return [TrackPoint(*r) for r in rows]


def visited_on(session: Session, day: date, timezone: str) -> dict[str, set[str]]:
    """username → cells visited on ``day``."""
    start, end = day_bounds(day, timezone)
    out: dict[str, set[str]] = defaultdict(set)
    for user, cell in session.execute(select(Position.username, Position.grid_code).distinct()
                                      .where(Position.at >= start, Position.at < end,
                                             Position.grid_code.is_not(None))):
        if cell is not None:  # excluded by the query; for the type checker
            out[user].add(cell)
    return out


def coverage(session: Session, day: date, timezone: str) -> list[DayCoverage]:
    """Each supervisor rostered or seen on ``day``."""
    visited = visited_on(session, day, timezone)
    assigned = {s.username: frozenset(s.grid_codes) for s in shifts_between(session, day, day)}
    return [DayCoverage(u, day, frozenset(visited.get(u, ())), assigned.get(u, frozenset()))
            for u in sorted(set(visited) | set(assigned))]


def patrol_counts(session: Session, start: datetime, end: datetime, timezone: str) -> dict[str, PatrolCounts]:
    """Cell-days per supervisor for the local days that begin in [start, end)."""
    tz = ZoneInfo(timezone)
    day, last = start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()
    if day_bounds(day, timezone)[0] < start:
        day += timedelta(days=1)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    while day <= last:
        for c in coverage(session, day, timezone):
            t = totals[c.username]
            t[0] += len(c.visited)
            t[1] += len(c.assigned)
            t[2] += len(c.covered)
        day += timedelta(days=1)
    return {u: PatrolCounts(*t) for u, t in totals.items()}

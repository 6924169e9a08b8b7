"""Hotspots, repeat problems and trends of the reports in a period.

These read the report columns of the case rows (where, what, when it was reported: written by
the start command from the report and indexed), not the evaluation's events, because a map or a
trend over months must answer in one aggregate query; the places and classes are the same values
the start event records.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.evaluation.compute import Period
from engine.models import Case, GridCell

STREAM_ROWS = 5000


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class HotCell:
    grid: str
    lat: float
    lon: float
    count: int


@dataclass(frozen=True)
class RepeatGroup:
    class_code: str
    place: str  # the component id when there is one, else the grid cell
    count: int
    numbers: list[str]
    first: datetime
    last: datetime


@dataclass(frozen=True)
class Series:
    name: str  # a district or class code
    values: list[int]


@dataclass(frozen=True)
class Trend:
    bucket: Bucket
    labels: list[str]
    series: list[Series]


def heat(session: Session, period: Period, class_code: str | None = None) -> list[HotCell]:
    """Reports per grid cell in the period (one point per cell, however many cases)."""
    conds = [Case.created_at >= period.start, Case.created_at < period.end]
    if class_code:
        conds.append(Case.class_code == class_code)
    stmt = (select(Case.grid_code, func.count(Case.id), GridCell.min_lat, GridCell.max_lat, GridCell.min_lon,
                   GridCell.max_lon)
            .join(GridCell, GridCell.code == Case.grid_code).where(*conds)
            .group_by(Case.grid_code, GridCell.min_lat, GridCell.max_lat, GridCell.min_lon, GridCell.max_lon)
            .order_by(func.count(Case.id).desc()))
    return [HotCell(code, round((a + b) / 2, 6), round((c + d) / 2, 6), int(n))
            for code, n, a, b, c, d in session.execute(stmt)]


def repeats(session: Session, period: Period, within_days: int = 7, min_count: int = 2,
            limit: int = 100) -> list[RepeatGroup]:
    """Same class at the same component (or grid cell) reported again within ``within_days``:
    runs of reports each within that many days of the previous one."""
    stmt = (select(Case.number, Case.class_code, func.coalesce(Case.component_id, Case.grid_code), Case.created_at)
            .where(Case.created_at >= period.start, Case.created_at < period.end)
            .order_by(Case.class_code, func.coalesce(Case.component_id, Case.grid_code), Case.created_at)
            .execution_options(yield_per=STREAM_ROWS))
    gap = timedelta(days=within_days)
    groups: list[RepeatGroup] = []
    run: list[tuple[str, datetime]] = []
    key: tuple[str, str] | None = None

    def flush() -> None:
        if key is not None and len(run) >= min_count:
            groups.append(RepeatGroup(key[0], key[1], len(run), [n for n, _ in run], run[0][1], run[-1][1]))

    for number, class_code, place, at in session.execute(stmt):
        if (class_code, place) != key or (run and at - run[-1][1] > gap):
            flush()
            run = []
            key = (class_code, place)
        run.append((number, at))
    flush()
    groups.sort(key=lambda g: (-g.count, -g.last.timestamp()))
    return groups[:limit]


def bucket_of(day: date, bucket: Bucket) -> date:
    if bucket == Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    if bucket == Bucket.MONTH:
        return day.replace(day=1)
    return day


def _labels(first: date, last: date, bucket: Bucket) -> list[date]:
    out: list[date] = []
    day = bucket_of(first, bucket)
    while day <= last:
        out.append(day)
        if bucket == Bucket.MONTH:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=7 if bucket == Bucket.WEEK else 1)
    return out


def trend(session: Session, period: Period, tz: str, bucket: Bucket, by: str = "district",
          top: int = 8) -> Trend:
    """Reports per day / week / month (local time) for each district, or for the ``top`` classes."""
    column = Case.district_code if by == "district" else Case.class_code
    zone = ZoneInfo(tz)
    stmt = (select(Case.created_at, column).where(Case.created_at >= period.start, Case.created_at < period.end)
            .execution_options(yield_per=STREAM_ROWS))
    counts: dict[str, Counter[date]] = defaultdict(Counter)
    for at, name in session.execute(stmt):
        counts[name][bucket_of(at.astimezone(zone).date(), bucket)] += 1
    first = period.start.astimezone(zone).date()
    last = (period.end.astimezone(zone) - timedelta(days=1)).date()
    labels = _labels(first, last, bucket)
    names = sorted(counts, key=lambda n: -sum(counts[n].values()))[:top]
    return Trend(bucket, [d.isoformat() for d in labels],
                 [Series(n, [counts[n].get(d, 0) for d in labels]) for n in sorted(names)])


__all__ = ["Bucket", "HotCell", "RepeatGroup", "Series", "Trend", "bucket_of", "heat", "repeats", "trend"]

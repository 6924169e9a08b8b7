"""Seeding the calendar table from the holiday packages: ``chinese_calendar`` for the years it
covers (holiday names, 调休 make-up working days), ``holidays`` (CN) beyond that.

Re-seeding never overwrites admins' edits (``source="admin"``). Does not commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar.store import SOURCE_ADMIN, SOURCE_CHINESE_CALENDAR, SOURCE_HOLIDAYS, bump_version
from engine.calendar.windows import parse_windows, windows_to_json, zone
from engine.models import CalendarDay


@dataclass(frozen=True)
class PlannedDay:
    day: date
    is_working: bool
    note: str
    source: str


def source_for_year(year: int) -> str:
    """``"chinese_calendar"`` when that package covers ``year``, else ``"holidays"``."""
    import chinese_calendar

    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        chinese_calendar.is_workday(date(year, 12, 31))
    except NotImplementedError:
        return SOURCE_HOLIDAYS
    return SOURCE_CHINESE_CALENDAR


def _year_days(year: int) -> Iterable[date]:
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


def _chinese_name(english: str | None) -> str:
    if not english:
        return ""
    try:
        from chinese_calendar.constants import Holiday

        return Holiday(english).chinese
    except (ImportError, ValueError, AttributeError):
        return english


def plan_year(year: int) -> list[PlannedDay]:
    """What seeding would write for ``year``: one entry per day, from the best package available."""
    if source_for_year(year) == SOURCE_CHINESE_CALENDAR:
        import chinese_calendar

        planned = []
        for d in _year_days(year):
            working = chinese_calendar.is_workday(d)
            _is_holiday, name = chinese_calendar.get_holiday_detail(d)
            if working and d.weekday() >= 5:
                note = f"{_chinese_name(name)}调休上班" if name else "调休上班"
            elif not working and name:
                note = _chinese_name(name)
            else:
                note = ""
            planned.append(PlannedDay(d, working, note[:100], SOURCE_CHINESE_CALENDAR))
        return planned

    import holidays

    try:
        cn = holidays.country_holidays("CN", years=year, language="zh_CN")
    except (NotImplementedError, ValueError, TypeError):
        cn = holidays.country_holidays("CN", years=year)
    make_up = {d for d in getattr(cn, "weekend_workdays", ()) if d.year == year}
    planned = []
    for d in _year_days(year):
        if d in make_up:
            planned.append(PlannedDay(d, True, "调休上班", SOURCE_HOLIDAYS))
        elif d in cn:
            planned.append(PlannedDay(d, False, str(cn.get(d))[:100], SOURCE_HOLIDAYS))
        else:
            planned.append(PlannedDay(d, d.weekday() < 5, "", SOURCE_HOLIDAYS))
    return planned


def seed_calendar(session: Session, years: Iterable[int], default_windows: str, tz: str) -> int:
    """Write one ``CalendarDay`` per day of ``years``; returns the number of rows written.

    Years covered by ``chinese_calendar`` use it (holiday names, 调休 make-up weekend working days);
    later years fall back to ``holidays`` CN plus weekends with ``source="holidays"`` — its knowledge
    of future 调休 is incomplete, so admins should check those years. Working days get
    ``default_windows``. Idempotent: rows with ``source="admin"`` are kept, all others replaced.
    ``tz`` is validated only (days are local dates). Does not commit.
    """
    windows_json = windows_to_json(parse_windows(default_windows))
    zone(tz)
    years = sorted(set(years))
    for year in years:
        if not isinstance(year, int) or not 1 <= year <= 9998:
            raise ValueError(f"bad year {year!r}: give a year such as 2026")
    written = 0
    for year in years:
        existing = {
            row.day: row
            for row in session.scalars(
                select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            )
        }
        for p in plan_year(year):
            row = existing.get(p.day)
            if row is not None and row.source == SOURCE_ADMIN:
                continue
            if row is None:
                row = CalendarDay(day=p.day)
                session.add(row)
            row.is_working = p.is_working
            row.windows = windows_json if p.is_working else "[]"
            row.note = p.note
            row.source = p.source
            written += 1
    if written:
        session.flush()
        bump_version(session)
    return written

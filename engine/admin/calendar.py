"""Admin commands on the working calendar: mark a day, import a year's schedule, check next year.

Import format (what the State Council's yearly notice on public holidays gives; UTF-8):

* CSV with a header ``date,type,note``: one line per day that is *not* an ordinary weekday or
  weekend; ``type`` is ``holiday`` (a day off, e.g. 春节) or ``workday`` (a 调休 make-up working day,
  usually a Saturday or Sunday). ::

      date,type,note
      2027-01-01,holiday,元旦
      2027-02-06,holiday,春节
      2027-02-14,workday,春节调休上班

* JSON: ``{"year": 2027, "days": [{"date": "2027-01-01", "type": "holiday", "note": "元旦"}, …]}``.

Every day of the year is written (``source="admin"``, so re-seeding keeps it): the listed days as
given, the others Monday–Friday working and weekends off, working days with the default windows.
All dates must lie in one year. None of these commit.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.admin.history import AdminKind, record, require_admin
from engine.admin.models import AdminEvent
from engine.calendar.store import SOURCE_ADMIN, SOURCE_CHINESE_CALENDAR, bump_version, set_day
from engine.errors import ValidationError
from engine.model import Actor
from engine.models import CalendarDay


class DayMark(StrEnum):
    WORKDAY = "workday"  # an ordinary working day
    HOLIDAY = "holiday"  # a day off (public holiday, or a weekend)
    MAKEUP = "makeup"  # 调休上班: a weekend day worked to make up for a holiday


@dataclass(frozen=True)
class CalendarDayView:
    day: date
    is_working: bool
    note: str
    source: str  # "" when the table has no row (the default schedule applies)


def _snap(row: CalendarDay | None) -> dict[str, object] | None:
    if row is None:
        return None
    return {"day": row.day.isoformat(), "is_working": bool(row.is_working), "note": row.note, "source": row.source}


def mark_day(session: Session, actor: Actor, now: datetime, day: date, mark: DayMark, note: str = "") -> CalendarDay:
    require_admin(actor)
    if mark not in tuple(DayMark):
        raise ValidationError(f"mark must be one of {', '.join(DayMark)}", {"mark": "not one of the allowed values"})
    before = _snap(session.get(CalendarDay, day))
    if mark == DayMark.MAKEUP and not note:
        note = "调休上班"
    try:
        row = set_day(session, day, mark != DayMark.HOLIDAY, None, note)
    except ValueError as exc:
        raise ValidationError(str(exc), {"note": "too long"}) from None
    record(session, actor, now, AdminKind.CALENDAR_DAY_SET, f"calendar:{day.isoformat()}", before, _snap(row))
    return row


def year_view(session: Session, year: int) -> list[CalendarDayView]:
    """Every day of ``year``: the table's row, or the default (Mon–Fri working) with source ''."""
    rows = {r.day: r for r in session.scalars(
        select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))}
    out = []
    d = date(year, 1, 1)
    while d.year == year:
        r = rows.get(d)
        out.append(CalendarDayView(d, bool(r.is_working), r.note, r.source) if r else
                   CalendarDayView(d, d.weekday() < 5, "", ""))
        d += timedelta(days=1)
    return out


def parse_schedule(data: bytes, filename: str) -> tuple[int, dict[date, tuple[bool, str]]]:
    """(year, {day: (is_working, note)}) from a CSV or JSON schedule; ValidationError naming the line."""
    try:
        text = data.decode("utf-8-sig")
        if filename.lower().endswith(".json"):
            doc = orjson.loads(text)
            items = doc["days"] if isinstance(doc, dict) else None
            if not isinstance(items, list):
                raise ValueError('a JSON object {"year": …, "days": [...]} is expected')
        else:
            items = list(csv.DictReader(io.StringIO(text)))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, csv.Error) as exc:
        raise ValidationError(f"the schedule cannot be read: {exc}"[:300], {"file": "cannot be read"}) from None
    days: dict[date, tuple[bool, str]] = {}
    for n, item in enumerate(items, start=1):
        try:
            d = date.fromisoformat(str(item["date"]).strip())
            kind = str(item["type"]).strip()
            note = str(item.get("note") or "").strip()[:100]
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ValidationError(f"line {n}: a date YYYY-MM-DD and a type are needed",
                                  {"file": f"line {n}"}) from None
        if kind not in (DayMark.HOLIDAY, DayMark.WORKDAY):
            raise ValidationError(f"line {n}: type must be holiday or workday, not {kind!r}", {"file": f"line {n}"})
        days[d] = (kind == DayMark.WORKDAY, note or ("调休上班" if kind == DayMark.WORKDAY else ""))
    years = {d.year for d in days}
    if len(years) != 1:
        raise ValidationError("the schedule must list days of exactly one year", {"file": "one year"})
    return years.pop(), days


def import_year(session: Session, actor: Actor, now: datetime, data: bytes, filename: str) -> int:
    """Write every day of the schedule's year; returns the year. Never commits."""
    require_admin(actor)
    year, listed = parse_schedule(data, filename)
    existing = {r.day: r for r in session.scalars(
        select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))}
    before = {"days_in_table": len(existing),
              "off_days": sorted(d.isoformat() for d, r in existing.items() if not r.is_working)}
    d = date(year, 1, 1)
    while d.year == year:
        working, note = listed.get(d, (d.weekday() < 5, ""))
        row = existing.get(d) or CalendarDay(day=d)
        row.is_working, row.windows, row.note, row.source = working, "[]", note, SOURCE_ADMIN
        session.add(row)
        d += timedelta(days=1)
    session.flush()
    bump_version(session)
    record(session, actor, now, AdminKind.CALENDAR_IMPORTED, f"calendar:{year}", before,
           {"holidays": sorted(k.isoformat() for k, v in listed.items() if not v[0]),
            "workdays": sorted(k.isoformat() for k, v in listed.items() if v[0])})
    return year


def year_is_known(session: Session, year: int) -> bool:
    """Whether ``year``'s holidays come from an authority: imported by an admin, or in chinese_calendar.

    Days seeded from the ``holidays`` package alone do not count: it guesses future 调休."""
    imported = session.scalar(select(func.count()).select_from(AdminEvent).where(
        AdminEvent.kind == str(AdminKind.CALENDAR_IMPORTED), AdminEvent.target == f"calendar:{year}"))
    if imported:
        return True
    return bool(session.scalar(select(func.count()).select_from(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31),
        CalendarDay.source == SOURCE_CHINESE_CALENDAR)))


def next_year_missing(session: Session, today: date) -> int | None:
    """In December, the next year when its schedule is not known yet (admins are warned), else None."""
    if today.month != 12:
        return None
    return None if year_is_known(session, today.year + 1) else today.year + 1

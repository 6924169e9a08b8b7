"""Seeding the calendar table from the holiday packages, and admins' edits of single days."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta

import chinese_calendar
import holidays
import pytest
from sqlalchemy import select

from engine.calendar import (
    SOURCE_ADMIN,
    SOURCE_CHINESE_CALENDAR,
    SOURCE_HOLIDAYS,
    load_calendar,
    parse_windows,
    seed_calendar,
    set_day,
    source_for_year,
    windows_from_json,
)
from engine.db import transaction
from engine.models import CalendarDay
from tests.engine.calendar.kit import TZ, WINDOWS, YEAR, holiday_days, local


def test_package_assumptions():
    assert source_for_year(YEAR) == SOURCE_CHINESE_CALENDAR
    assert source_for_year(YEAR + 1) in (SOURCE_CHINESE_CALENDAR, SOURCE_HOLIDAYS)
    assert source_for_year(9000) == SOURCE_HOLIDAYS


def test_seed_matches_chinese_calendar(seeded):
    _url, factory = seeded
    with factory() as session:
        rows = {r.day: r for r in session.scalars(select(CalendarDay))}
    year_rows = [r for d, r in rows.items() if d.year == YEAR]
    assert len(year_rows) == (date(YEAR + 1, 1, 1) - date(YEAR, 1, 1)).days
    for row in year_rows:
        assert row.is_working == chinese_calendar.is_workday(row.day), row.day
        assert row.source == SOURCE_CHINESE_CALENDAR
        assert windows_from_json(row.windows) == (parse_windows(WINDOWS) if row.is_working else [])
    national_day = holiday_days(YEAR, "National Day")
    assert national_day and all(not rows[d].is_working and rows[d].note for d in national_day)


def test_seed_beyond_chinese_calendar_uses_holidays(seeded):
    year = YEAR + 1
    if source_for_year(year) != SOURCE_HOLIDAYS:
        pytest.skip("installed chinese_calendar already covers the next year")
    _url, factory = seeded
    cn = holidays.country_holidays("CN", years=year)
    make_up = {d for d in getattr(cn, "weekend_workdays", ()) if d.year == year}
    with factory() as session:
        rows = list(session.scalars(select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1))))
    assert len(rows) == (date(year + 1, 1, 1) - date(year, 1, 1)).days
    for row in rows:
        expected = row.day in make_up or (row.day.weekday() < 5 and row.day not in cn)
        assert row.is_working == expected, row.day
        assert row.source == SOURCE_HOLIDAYS


def test_seed_is_idempotent_and_admin_edit_wins(fresh):
    _url, factory = fresh
    # an ordinary weekday of YEAR made a day off, and an ordinary Sunday made a working half day
    weekday = next(d for d in (date(YEAR, 3, 2) + timedelta(i) for i in range(60))
                   if d.weekday() == 2 and chinese_calendar.is_workday(d))
    sunday = next(d for d in (date(YEAR, 3, 1) + timedelta(i) for i in range(60))
                  if d.weekday() == 6 and not chinese_calendar.is_workday(d))
    with transaction(factory) as session:
        first = seed_calendar(session, [YEAR], WINDOWS, TZ)
        set_day(session, weekday, False, note="台风停工")
        set_day(session, sunday, True, "09:00-12:00", note="创卫检查")
    with transaction(factory) as session:
        again = seed_calendar(session, [YEAR], WINDOWS, TZ)
    assert again == first - 2
    with factory() as session:
        off = session.get(CalendarDay, weekday)
        on = session.get(CalendarDay, sunday)
        assert (off.is_working, off.source, off.note) == (False, SOURCE_ADMIN, "台风停工")
        assert (on.is_working, on.source) == (True, SOURCE_ADMIN)
        assert windows_from_json(on.windows) == [(time(9), time(12))]
        calendar = load_calendar(session, TZ, WINDOWS)
    assert not calendar.is_working_day(weekday)
    assert calendar.is_working_day(sunday)
    assert calendar.windows(sunday) == [(local(sunday.year, sunday.month, sunday.day, 9).astimezone(UTC),
                                         local(sunday.year, sunday.month, sunday.day, 12).astimezone(UTC))]


def test_set_day_rejects_windows_on_day_off(fresh):
    _url, factory = fresh
    with factory() as session, pytest.raises(ValueError):
        set_day(session, date(YEAR, 5, 6), False, "08:30-12:00")

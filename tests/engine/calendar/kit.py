"""Helpers of the calendar tests; expectations come from ``chinese_calendar`` / ``holidays`` themselves."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from engine.db import make_engine, session_factory, upgrade

TZ = "Asia/Shanghai"
LOCAL = ZoneInfo(TZ)
WINDOWS = "08:30-12:00,13:30-17:30"
YEAR = 2026  # covered by the installed chinese_calendar (asserted in test_seed.py)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


def next_cc_workday(d: date) -> date:
    d += timedelta(days=1)
    while not chinese_calendar.is_workday(d):
        d += timedelta(days=1)
    return d


def holiday_days(year: int, english_name: str) -> list[date]:
    days = []
    d = date(year, 1, 1)
    while d.year == year:
        is_holiday, name = chinese_calendar.get_holiday_detail(d)
        if is_holiday and name == english_name:
            days.append(d)
        d += timedelta(days=1)
    return days


def make_db(path) -> tuple[str, object]:
    url = f"sqlite:///{path}"
    upgrade(url)
    return url, session_factory(make_engine(url))

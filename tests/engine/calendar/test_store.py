"""The per-process calendar cache: reloaded only when the table changed."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from engine.calendar import (
    get_calendar,
    seed_calendar,
    set_day,
)
from engine.db import transaction
from tests.engine.calendar.kit import TZ, WINDOWS, YEAR


def test_get_calendar_reloads_only_on_change(fresh):
    _url, factory = fresh
    day = next(d for d in (date(YEAR, 3, 2) + timedelta(i) for i in range(60)) if chinese_calendar.is_workday(d))
    with transaction(factory) as session:
        seed_calendar(session, [YEAR], WINDOWS, TZ)
    with factory() as session:
        first = get_calendar(session, TZ, WINDOWS)
        assert get_calendar(session, TZ, WINDOWS) is first
        assert first.is_working_day(day)
    with transaction(factory) as session:
        set_day(session, day, True, "09:00-11:00")  # same count, same working days: the version counter tells
    with factory() as session:
        second = get_calendar(session, TZ, WINDOWS)
    assert second is not first
    assert len(second.windows(day)) == 1
    with factory() as session:
        assert get_calendar(session, TZ, WINDOWS) is second

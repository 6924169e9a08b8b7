"""Working-time arithmetic on the seeded calendar (expectations from the holiday packages)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from engine.calendar import (
    WorkCalendar,
)
from tests.engine.calendar.kit import LOCAL, TZ, WINDOWS, YEAR, holiday_days, local, next_cc_workday


def test_default_schedule_without_rows():
    calendar = WorkCalendar({}, WINDOWS, TZ)
    assert calendar.is_working_day(date(2030, 1, 7))  # Monday
    assert not calendar.is_working_day(date(2030, 1, 5))  # Saturday
    assert calendar.windows(date(2030, 1, 5)) == []
    assert calendar.windows(date(2030, 1, 7)) == [
        (datetime(2030, 1, 7, 0, 30, tzinfo=UTC), datetime(2030, 1, 7, 4, tzinfo=UTC)),
        (datetime(2030, 1, 7, 5, 30, tzinfo=UTC), datetime(2030, 1, 7, 9, 30, tzinfo=UTC)),
    ]
    assert calendar.standard_day_minutes == 450


def test_national_day_workday(cal):
    national_day = holiday_days(YEAR, "National Day")
    start_day = national_day[0] - timedelta(days=1)
    assert chinese_calendar.is_workday(start_day)
    expected = next_cc_workday(start_day)
    assert expected > national_day[-1]
    start = local(start_day.year, start_day.month, start_day.day, 10)
    end = cal.add_working_time(start, 1, "workday")
    assert end.tzinfo == UTC
    assert end.astimezone(LOCAL) == local(expected.year, expected.month, expected.day, 10)
    assert cal.working_time_between(start, end, "workday") == pytest.approx(1)


def test_spring_festival(cal):
    festival = holiday_days(YEAR, "Spring Festival")
    assert festival
    for d in festival:
        assert not cal.is_working_day(d)
    before = festival[0] - timedelta(days=1)
    while not chinese_calendar.is_workday(before):
        before -= timedelta(days=1)
    start = local(before.year, before.month, before.day, 15)
    # three working days after the last working day before the festival
    expected = before
    for _ in range(3):
        expected = next_cc_workday(expected)
    assert cal.add_working_time(start, 3, "workday").astimezone(LOCAL) == local(
        expected.year, expected.month, expected.day, 15)
    # and 2 workhours from 16:30 on that day: 1 h before 17:30, 1 h on the first working day after it
    first = next_cc_workday(before)
    end = cal.add_working_time(local(before.year, before.month, before.day, 16, 30), 2, "workhour")
    assert end.astimezone(LOCAL) == local(first.year, first.month, first.day, 9, 30)


def test_make_up_saturday_is_working(cal):
    make_up = [d for d in (date(YEAR, 1, 1) + timedelta(i) for i in range(365))
               if d.weekday() >= 5 and chinese_calendar.is_workday(d)]
    assert make_up, "chinese_calendar lists 调休 weekend working days"
    for d in make_up:
        assert cal.is_working_day(d)
        assert len(cal.windows(d)) == 2
    day = make_up[0]
    prev = day - timedelta(days=1)
    while not chinese_calendar.is_workday(prev):
        prev -= timedelta(days=1)
    if next_cc_workday(prev) == day:
        end = cal.add_working_time(local(prev.year, prev.month, prev.day, 11), 1, "workday")
        assert end.astimezone(LOCAL) == local(day.year, day.month, day.day, 11)


def test_workhours_across_lunch_and_weekend(cal):
    # a Friday of YEAR that is a working day and followed by an ordinary weekend and working Monday
    friday = next(d for d in (date(YEAR, 3, 1) + timedelta(i) for i in range(300))
                  if d.weekday() == 4 and chinese_calendar.is_workday(d)
                  and not chinese_calendar.is_workday(d + timedelta(1))
                  and not chinese_calendar.is_workday(d + timedelta(2))
                  and chinese_calendar.is_workday(d + timedelta(3)))
    monday = friday + timedelta(days=3)
    y, m, d = friday.year, friday.month, friday.day
    assert cal.add_working_time(local(y, m, d, 11), 2, "workhour") == local(y, m, d, 14, 30)
    assert cal.add_working_time(local(y, m, d, 11), 61, "minute") == local(y, m, d, 13, 31)
    end = cal.add_working_time(local(y, m, d, 16, 30), 2, "workhour")
    assert end.astimezone(LOCAL) == local(monday.year, monday.month, monday.day, 9, 30)
    # a start outside working time moves to the next window start first
    assert cal.add_working_time(local(y, m, d, 12, 30), 30, "minute") == local(y, m, d, 14)
    assert cal.add_working_time(local(y, m, d, 20), 0.5, "workhour").astimezone(LOCAL) == local(
        monday.year, monday.month, monday.day, 9)
    # an end exactly at the end of a window stays there
    assert cal.add_working_time(local(y, m, d, 16, 30), 60, "minute") == local(y, m, d, 17, 30)


def test_workday_outside_working_time_and_fractions(cal):
    start_day = next(d for d in (date(YEAR, 3, 2) + timedelta(i) for i in range(60))
                     if chinese_calendar.is_workday(d) and chinese_calendar.is_workday(next_cc_workday(d)))
    nxt = next_cc_workday(start_day)
    y, m, d = start_day.year, start_day.month, start_day.day
    # lunch break: start moves to 13:30, same time next working day
    end = cal.add_working_time(local(y, m, d, 12, 45), 1, "workday")
    assert end.astimezone(LOCAL) == local(nxt.year, nxt.month, nxt.day, 13, 30)
    # half a workday = half of the standard working minutes, walked through the windows
    assert cal.standard_day_minutes == 450  # 3.5 h + 4 h
    half = cal.add_working_time(local(y, m, d, 8, 30), 0.5, "workday")
    assert half == local(y, m, d, 13, 45)  # 225 min: 210 before lunch, 15 after
    one_and_half = cal.add_working_time(local(y, m, d, 8, 30), 1.5, "workday")
    assert one_and_half.astimezone(LOCAL) == local(nxt.year, nxt.month, nxt.day, 13, 45)
    assert cal.working_time_between(local(y, m, d, 8, 30), half, "workday") == pytest.approx(0.5)


def test_workday_clamps_to_short_target_day():
    calendar = WorkCalendar({date(2030, 1, 8): (True, "08:30-12:00")}, WINDOWS, TZ)
    end = calendar.add_working_time(local(2030, 1, 7, 15), 1, "workday")
    assert end == local(2030, 1, 8, 12)


def test_fifteen_workdays_land_on_the_fifteenth_working_day(cal):
    # (how fast this is belongs in bench/, not in a test)
    start = local(YEAR, 9, 1, 9, 15)
    end = cal.add_working_time(start, 15, "workday")
    expected = date(YEAR, 9, 1)
    for _ in range(15):
        expected = next_cc_workday(expected)
    assert end.astimezone(LOCAL) == local(expected.year, expected.month, expected.day, 9, 15)


@pytest.mark.parametrize("amount,unit", [(-1, "workday"), (math.nan, "minute"), (math.inf, "workhour"),
                                         (1, "hour"), (1, "workdays")])
def test_bad_amounts_and_units(cal, amount, unit):
    with pytest.raises(ValueError):
        cal.add_working_time(local(YEAR, 3, 2, 9), amount, unit)


def test_naive_datetimes_rejected(cal):
    with pytest.raises(ValueError):
        cal.add_working_time(datetime(YEAR, 3, 2, 9), 1, "workhour")
    with pytest.raises(ValueError):
        cal.working_time_between(datetime(YEAR, 3, 2, 9), local(YEAR, 3, 3, 9))


# -- measuring ------------------------------------------------------------------------------------


def test_working_time_between_with_suspension(cal):
    start_day = next(d for d in (date(YEAR, 3, 2) + timedelta(i) for i in range(60))
                     if chinese_calendar.is_workday(d) and chinese_calendar.is_workday(d + timedelta(1)))
    y, m, d = start_day.year, start_day.month, start_day.day
    a = local(y, m, d, 9)
    b = local(y, m, d, 16)
    assert cal.working_time_between(a, b) == 60 * 7 - 90
    # suspended 10:00-14:00: loses 2 h morning + 0.5 h afternoon
    suspension = [(local(y, m, d, 10), local(y, m, d, 14))]
    assert cal.working_time_between(a, b, "minute", suspension) == 330 - 150
    assert cal.working_time_between(a, b, "workhour", suspension) == pytest.approx(3)
    # an open suspension ends at b; overlapping periods count once
    assert cal.working_time_between(a, b, exclude=[(local(y, m, d, 15), None)]) == 330 - 60
    overlapping = [(local(y, m, d, 10), local(y, m, d, 11)), (local(y, m, d, 10, 30), local(y, m, d, 11, 30))]
    assert cal.working_time_between(a, b, exclude=overlapping) == 330 - 90
    # reversed order gives the negative
    assert cal.working_time_between(b, a, "minute", suspension) == -(330 - 150)
    assert cal.working_time_between(a, a) == 0


def test_between_spans_holidays(cal):
    national_day = holiday_days(YEAR, "National Day")
    before = national_day[0] - timedelta(days=1)
    after = next_cc_workday(before)
    a = local(before.year, before.month, before.day, 8, 30)
    b = local(after.year, after.month, after.day, 17, 30)
    assert cal.working_time_between(a, b, "workday") == pytest.approx(2)


@pytest.mark.parametrize("amount,unit", [(1, "workday"), (2.5, "workday"), (15, "workday"), (7, "workhour"),
                                         (31.75, "workhour"), (1, "minute"), (2000, "minute")])
def test_round_trip(cal, amount, unit):
    # start inside working time so that add → measure is exact
    for start in (local(YEAR, 9, 28, 10, 17), local(YEAR, 2, 12, 14, 5), local(YEAR, 12, 30, 9)):
        assert cal.is_working_time(start)
        end = cal.add_working_time(start, amount, unit)
        assert cal.working_time_between(start, end, unit) == pytest.approx(amount, abs=1e-6)

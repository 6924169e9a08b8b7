"""Hotspots, repeat problems, trends and the forecast: values a user would check by hand."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from engine.calendar import get_calendar
from engine.commands import start_case
from engine.evaluation.forecast import _forecast
from engine.evaluation.periods import days_period
from engine.evaluation.trends import Bucket, heat, repeats, trend
from engine.model import Actor, EngineContext
from tests.factories import report

TZ = "Asia/Shanghai"
WINDOWS = "08:30-12:00,13:30-17:30"


def test_heat_repeats_and_trend(city, clock):
    ctx = EngineContext(clock)
    citizen = Actor("citizen", "citizen")
    with city.session() as s:
        for _ in range(3):  # the same problem at the same place, three times
            start_case(s, ctx, report(city.city), citizen)
            clock.advance(timedelta(days=2))
        start_case(s, ctx, report(city.city, class_code="E0104"), citizen)
    period = days_period(date(2026, 11, 20), date(2026, 12, 10), TZ)
    with city.factory() as s:
        cells = heat(s, period)
        assert sum(c.count for c in cells) == 4 and cells[0].count == 4
        assert [c.count for c in heat(s, period, "E0104")] == [1]
        groups = repeats(s, period, within_days=3)
        assert [(g.class_code, g.count) for g in groups] == [("E0102", 3)]
        assert repeats(s, period, within_days=1) == []  # two days apart: not within one day
        weekly = trend(s, period, TZ, Bucket.WEEK, "class")
    assert sum(sum(x.values) for x in weekly.series) == 4
    assert {x.name for x in weekly.series} == {"E0102", "E0104"}


def test_forecast_follows_weekdays_and_holidays_and_warns(city):
    with city.factory() as s:
        calendar = get_calendar(s, TZ, WINDOWS)
    today = date(2026, 11, 30)  # a Monday
    daily: Counter[date] = Counter()
    for i in range(1, 80):
        day = today - timedelta(days=i)
        daily[day] = 20 if calendar.is_working_day(day) else 4
    f = _forecast("330191", daily, today, calendar)
    by_day = dict(zip(f.days, f.values, strict=True))
    assert by_day["2026-11-30"] > 3 * by_day["2026-12-05"]  # Monday vs Saturday
    assert f.mae < 2 and f.backtest_actual == 5 * 20 + 2 * 4
    assert not f.warning
    for i in range(1, 4):  # the last three days twice as busy: above the band
        daily[today - timedelta(days=i)] *= 2
    warned = _forecast("330191", daily, today, calendar)
    assert warned.warning and warned.recent_actual > warned.recent_high


def _dispatch(city, clock, district: str) -> None:
    from engine.commands import complete_task
    from tests.web.webkit import supervisor_case, task

    case = supervisor_case(city, clock, district)
    for spec, actor, data in (("accept", Actor("acceptor1", "acceptor"), {"decision": "file"}),
                              ("file", Actor("shiftleader1", "shift_leader"), {"decision": "file"}),
                              ("dispatch", Actor("dispatcher1", "dispatcher"), {"department": "municipal"})):
        with city.session() as s:
            complete_task(s, EngineContext(clock), task(city, case.case_id, spec).id, actor, data)


def test_a_district_with_many_overdue_tasks_is_warned(city, clock):
    from engine.evaluation.forecast import overdue_warnings

    for _ in range(6):
        _dispatch(city, clock, "330191")
    clock.advance(timedelta(days=30))  # every handling deadline of 330191 has passed
    for _ in range(6):
        _dispatch(city, clock, "330192")
    with city.factory() as s:
        warnings = {w.district: w for w in overdue_warnings(s, clock.now())}
    assert (warnings["330191"].open, warnings["330191"].overdue, warnings["330191"].rate) == (6, 6, 100.0)
    assert warnings["330191"].warning and not warnings["330192"].warning
    assert warnings["330192"].overdue == 0

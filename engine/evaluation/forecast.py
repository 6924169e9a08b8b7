"""Forecast and early warning (预测预警): next week's reports per district and class.

The model is a seasonal baseline, stated plainly so a leader can judge it:

* level = the mean daily count of the last ``LEVEL_DAYS`` days;
* a day-type factor = the mean count of that type of day over the last ``HISTORY_WEEKS`` weeks
  divided by the mean of all days, where the types are the working weekdays Monday … Friday,
  working weekend days (调休) and days off (weekends and public holidays, from the city's
  working-time calendar), so holidays and make-up days get their own effect;
* forecast(day) = level × factor(type of day); the band is forecast ± 2·√forecast (Poisson).

Its error is measured honestly: the same model, fitted only on the data before the last complete
week, forecasts that week, and the mean absolute error and percentage error against what was
actually reported are shown beside the forecast. A district warns when its reports of the last
complete days run above the band of the model fitted before them, or when its share of overdue
handling tasks now runs above the city's share by more than two binomial standard errors.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from math import sqrt
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine.calendar import WorkCalendar, get_calendar
from engine.model import Role
from engine.models import Case, TaskRow

HISTORY_WEEKS = 8
LEVEL_DAYS = 28
HORIZON = 7
WARN_DAYS = 3
STREAM_ROWS = 5000


@dataclass(frozen=True)
class Forecast:
    name: str
    days: list[str]
    values: list[float]
    low: list[float]
    high: list[float]
    total: float
    backtest_actual: int  # reports of the held-out week
    backtest_forecast: float
    mae: float  # mean absolute error per day on the held-out week
    mape: float | None  # percent; None when the held-out week had no report
    warning: bool
    recent_actual: int  # reports of the last WARN_DAYS days
    recent_high: float  # the upper band for them


@dataclass(frozen=True)
class OverdueWarning:
    """A district's share of open handling tasks past their deadline now, against the city's:
    the band is the city's share + 2 binomial standard errors for that many tasks."""

    district: str
    open: int
    overdue: int
    rate: float  # percent
    band_high: float  # percent
    warning: bool


@dataclass(frozen=True)
class ForecastView:
    made_on: str
    district: list[Forecast]
    klass: list[Forecast]
    overdue: list[OverdueWarning]


def _day_type(calendar: WorkCalendar, day: date) -> str:
    if not calendar.is_working_day(day):
        return "off"
    return f"w{day.weekday()}" if day.weekday() < 5 else "makeup"


class _Model:
    def __init__(self, daily: Counter[date], end: date, calendar: WorkCalendar) -> None:
        days = [end - timedelta(days=i) for i in range(1, HISTORY_WEEKS * 7 + 1)]
        mean = sum(daily[d] for d in days) / len(days)
        by_type: dict[str, list[int]] = defaultdict(list)
        for d in days:
            by_type[_day_type(calendar, d)].append(daily[d])
        self.factor = {t: (sum(v) / len(v)) / mean if mean else 1.0 for t, v in by_type.items()}
        self.level = sum(daily[end - timedelta(days=i)] for i in range(1, LEVEL_DAYS + 1)) / LEVEL_DAYS
        self.calendar = calendar

    def predict(self, day: date) -> float:
        return self.level * self.factor.get(_day_type(self.calendar, day), 1.0)


def _band(value: float) -> tuple[float, float]:
    spread = 2 * sqrt(max(value, 1.0))
    return max(0.0, value - spread), value + spread


def _forecast(name: str, daily: Counter[date], today: date, calendar: WorkCalendar) -> Forecast:
    model = _Model(daily, today, calendar)
    days = [today + timedelta(days=i) for i in range(HORIZON)]
    values = [round(model.predict(d), 2) for d in days]
    bands = [_band(v) for v in values]
    held_start = today - timedelta(days=today.weekday() + 7)  # Monday of the last complete week
    held = [held_start + timedelta(days=i) for i in range(7)]
    back = _Model(daily, held_start, calendar)
    predicted = [back.predict(d) for d in held]
    actual = [daily[d] for d in held]
    mae = sum(abs(p - a) for p, a in zip(predicted, actual, strict=True)) / 7
    recent = [today - timedelta(days=i) for i in range(1, WARN_DAYS + 1)]
    before = _Model(daily, recent[-1], calendar)
    recent_forecast = sum(before.predict(d) for d in recent)
    recent_high = _band(recent_forecast)[1]
    recent_actual = sum(daily[d] for d in recent)
    return Forecast(name, [d.isoformat() for d in days], values, [round(b[0], 2) for b in bands],
                    [round(b[1], 2) for b in bands], round(sum(values), 2), sum(actual), round(sum(predicted), 2),
                    round(mae, 2), round(100 * abs(sum(predicted) - sum(actual)) / sum(actual), 1) if sum(actual)
                    else None, recent_actual > recent_high, recent_actual, round(recent_high, 2))


def overdue_warnings(session: Session, now: datetime) -> list[OverdueWarning]:
    red = case((TaskRow.due_at.is_not(None) & (TaskRow.due_at <= now), 1), else_=0)
    stmt = (select(TaskRow.district_code, func.count(TaskRow.id), func.sum(red))
            .where(TaskRow.role == Role.HANDLER).group_by(TaskRow.district_code))
    rows = [(d, int(n), int(o or 0)) for d, n, o in session.execute(stmt)]
    total = sum(n for _, n, _ in rows)
    city = sum(o for _, _, o in rows) / total if total else 0.0
    out = []
    for district, n, o in sorted(rows):
        high = min(1.0, city + 2 * sqrt(city * (1 - city) / n)) if n else 1.0
        out.append(OverdueWarning(district, n, o, round(100 * o / n, 1) if n else 0.0, round(100 * high, 1),
                                  n > 0 and o / n > high))
    return out


def forecast_view(session: Session, now: datetime, tz: str, windows: str, top_classes: int = 10) -> ForecastView:
    """Next week's forecast from today (local) for every district and the busiest classes."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    since = datetime.combine(today - timedelta(days=HISTORY_WEEKS * 7 + 14), time(0), zone)
    until = datetime.combine(today, time(0), zone)
    calendar = get_calendar(session, tz, windows)
    by_district: dict[str, Counter[date]] = defaultdict(Counter)
    by_class: dict[str, Counter[date]] = defaultdict(Counter)
    stmt = (select(Case.created_at, Case.district_code, Case.class_code)
            .where(Case.created_at >= since, Case.created_at < until).execution_options(yield_per=STREAM_ROWS))
    for at, district, klass in session.execute(stmt):
        day = at.astimezone(zone).date()
        by_district[district][day] += 1
        by_class[klass][day] += 1
    busiest = sorted(by_class, key=lambda k: -sum(by_class[k].values()))[:top_classes]
    return ForecastView(today.isoformat(),
                        [_forecast(d, by_district[d], today, calendar) for d in sorted(by_district)],
                        [_forecast(k, by_class[k], today, calendar) for k in sorted(busiest)],
                        overdue_warnings(session, now))


__all__ = ["Forecast", "ForecastView", "OverdueWarning", "forecast_view", "overdue_warnings"]

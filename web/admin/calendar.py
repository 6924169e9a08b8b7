"""/admin/calendar: the working calendar's year view, marking days, importing a year's schedule."""

from __future__ import annotations

import calendar as pycal
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.admin import calendar as cal
from engine.errors import ValidationError
from web.admin import bp
from web.admin.common import actor
from web.extensions import get_session, rollback
from web.security import now

MAX_UPLOAD = 1024 * 1024


def _today() -> date:
    from engine.calendar.windows import zone
    from web.security import config

    return now().astimezone(zone(config()["TIMEZONE"])).date()


def _year() -> int:
    try:
        year = int(request.args.get("year", ""))
    except ValueError:
        year = _today().year
    return year if 2000 <= year <= 2100 else _today().year


def _months(year: int) -> list[dict]:
    """12 months, each a list of weeks (Monday first) of CalendarDayView or None."""
    by_day = {v.day: v for v in cal.year_view(get_session(), year)}
    months = []
    for month in range(1, 13):
        weeks = [[by_day.get(d) if d.month == month else None for d in week]
                 for week in pycal.Calendar().monthdatescalendar(year, month)]
        months.append({"month": month, "weeks": weeks})
    return months


def _page(year: int, status: int = 200, problems: list[str] | None = None):
    return render_template("admin/calendar.html", year=year, months=_months(year), problems=problems or [],
                           missing=cal.next_year_missing(get_session(), _today()),
                           marks=tuple(cal.DayMark)), status


@bp.get("/calendar")
def calendar_page():
    return _page(_year())


@bp.post("/calendar/day")
def calendar_mark():
    try:
        day = date.fromisoformat(request.form.get("day", ""))
        mark = cal.DayMark(request.form.get("mark", ""))
    except ValueError:
        return _page(_year(), 400, [_("Give a date and choose how to mark it.")])
    try:
        cal.mark_day(get_session(), actor(), now(), day, mark, request.form.get("note", "").strip())
    except ValidationError:
        rollback()
        return _page(day.year, 400, [_("The note is too long (at most 100 characters).")])
    flash(_("%(day)s saved.", day=day.isoformat()), "success")
    return redirect(url_for("admin.calendar_page", year=day.year))


@bp.post("/calendar/import")
def calendar_import():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(_year(), 400, [_("Choose a CSV or JSON schedule file.")])
    data = upload.read(MAX_UPLOAD + 1)
    try:
        if len(data) > MAX_UPLOAD:
            raise ValidationError("larger than 1 MB")
        year = cal.import_year(get_session(), actor(), now(), data, upload.filename)
    except ValidationError as exc:
        rollback()
        return _page(_year(), 400, [_("The schedule cannot be used: %(detail)s. See the format below.",
                                      detail=str(exc))])
    flash(_("The working calendar of %(year)s is imported.", year=year), "success")
    return redirect(url_for("admin.calendar_page", year=year))

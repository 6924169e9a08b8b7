"""The case list (/cases): search by number, keyword, class, place, department, source, status,
report period and overdue tasks — ``engine.queries.search_cases`` within the user's scope,
newest first, one page of 50 at a time (keyset cursor in ``after``)."""

from __future__ import annotations

from datetime import date, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import CityCaseError, Conflict
from engine.model import CASE_STATUSES, SOURCES
from engine.queries import CaseFilters, local_days, parse_cursor, search_cases
from engine.queries.saved import (
    MAX_PER_USER,
    NAME_CHARS,
    delete_search,
    save_search,
    saved_searches,
    search_filters,
)
from web.cases import bp
from web.cases import reference as refdata
from web.cases.display import pick
from web.cases.views import STAFF
from web.extensions import get_session, rollback
from web.messages import error_message
from web.security import config, current_actor, now, role_required

FILTER_KEYS = ("keyword", "class", "district", "street", "department", "source", "status", "from", "to", "period",
               "overdue")
# Relative report periods: saved searches keep them relative ("last week" stays last week).
PERIODS = ("this_week", "last_week", "this_month")


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def query_filters() -> dict[str, str]:
    return {k: request.args.get(k, "").strip() for k in FILTER_KEYS if request.args.get(k, "").strip()}


def period_days(period: str, today: date) -> tuple[date, date] | None:
    """The first and last day of a relative report period in the city's days."""
    monday = today - timedelta(days=today.weekday())
    days = {"this_week": (monday, today), "last_week": (monday - timedelta(days=7), monday - timedelta(days=1)),
            "this_month": (today.replace(day=1), today)}
    return days.get(period)


def _today() -> date:
    return now().astimezone(ZoneInfo(config()["TIMEZONE"])).date()


def case_filters(f: dict[str, str]) -> CaseFilters:
    """The page's query string as search filters (unknown statuses, sources and periods are ignored)."""
    first, last = _date(f.get("from")), _date(f.get("to"))
    relative = period_days(f.get("period", ""), _today())
    if relative is not None:
        first, last = relative
    created_from, created_before = local_days(first, last, config()["TIMEZONE"])
    return CaseFilters(
        keyword=f.get("keyword"), class_code=f.get("class"), district=f.get("district"), street=f.get("street"),
        department=f.get("department"), source=f.get("source") if f.get("source") in SOURCES else None,
        status=f.get("status") if f.get("status") in CASE_STATUSES else None,
        created_from=created_from, created_before=created_before, overdue=bool(f.get("overdue")))


def quick_periods(f: dict[str, str]) -> list[tuple[str, str]]:
    """One-click report periods in the city's days (this week, last week, this month, last week's
    overdue cases), each keeping the other filters: (label, url)."""
    periods: list[tuple[str, str, dict[str, str]]] = [
        (_("This week"), "this_week", {}), (_("Last week"), "last_week", {}), (_("This month"), "this_month", {}),
        (_("Last week, overdue"), "last_week", {"overdue": "1"})]
    kept = {k: v for k, v in f.items() if k not in ("from", "to", "period")}
    return [(label, url_for("cases.search", **{**kept, "period": period, **extra}))  # type: ignore[arg-type]
            for label, period, extra in periods]


@bp.route("/cases")
@role_required(*STAFF)
def search():
    number = request.args.get("number", "").strip()
    if number:
        return redirect(url_for("cases.case_page", number=number))
    session = get_session()
    f = query_filters()
    page = search_cases(session, current_actor(), case_filters(f), parse_cursor(request.args.get("after")),
                        at=now())
    ref = refdata.reference(session)
    return render_template(
        "cases/search.html", rows=page.items, ref=ref, status=f.get("status", ""), filters=f,
        next_url=url_for("cases.search", after=page.next.encode(), **f) if page.next is not None else None,
        first_url=url_for("cases.search", **f) if request.args.get("after") else None,
        classes=[c for c in ref.classes.values() if c.active], districts=refdata.districts(ref),
        streets=refdata.streets(ref, f.get("district")), departments=sorted(ref.departments.values(), key=attrgetter("code")),
        sources=SOURCES, statuses=CASE_STATUSES, quick_periods=quick_periods(f),
        saved=[(row.id, row.name, url_for("cases.search", **search_filters(row)))
               for row in saved_searches(session, current_actor().username)],
        class_name=lambda code: pick(ref.classes[code].name, ref.classes[code].name_en)
        if code in ref.classes else code,
        region=lambda code: refdata.region_name(ref, code))


@bp.post("/cases/saved")
@role_required(*STAFF)
def save_current_search():
    """Save the filters of the search the page shows under a name the user chooses (常用查询)."""
    f = {k: v for k, v in ((k, request.form.get(k, "").strip()) for k in FILTER_KEYS) if v}
    try:
        save_search(get_session(), current_actor().username, request.form.get("name", ""), f, now())
    except CityCaseError as exc:
        rollback()
        flash(_("The search was not saved: %(msg)s", msg=_saving_refused(exc)), "error")
        return redirect(url_for("cases.search", **f)), 303
    flash(_("Saved; it is one click away at the top of the case list."), "success")
    return redirect(url_for("cases.search", **f)), 303


def _saving_refused(exc: CityCaseError) -> str:
    if isinstance(exc, Conflict):
        return _("you already have a saved search with this name.")
    fields = getattr(exc, "fields", {})
    if fields.get("name") == "length":
        return _("name it in 1 to %(n)d characters.", n=NAME_CHARS)
    if fields.get("name") == "too many":
        return _("you have %(n)d saved searches already; delete one first.", n=MAX_PER_USER)
    if fields.get("filters") == "empty":
        return _("set at least one filter first.")
    return error_message(exc)


@bp.post("/cases/saved/<int:search_id>/delete")
@role_required(*STAFF)
def delete_saved_search(search_id: int):
    try:
        delete_search(get_session(), current_actor().username, search_id)
    except CityCaseError as exc:
        rollback()
        flash(error_message(exc), "error")
    return redirect(url_for("cases.search")), 303

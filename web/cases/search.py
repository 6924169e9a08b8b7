"""The case list (/cases): search by number, keyword, class, place, department, source, status,
report period and overdue tasks — ``engine.queries.search_cases`` within the user's scope,
newest first, one page of 50 at a time (keyset cursor in ``after``)."""

from __future__ import annotations

from datetime import date, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.model import CASE_STATUSES, SOURCES
from engine.queries import CaseFilters, local_days, parse_cursor, search_cases
from web.cases import bp
from web.cases import reference as refdata
from web.cases.display import pick
from web.cases.views import STAFF
from web.extensions import get_session
from web.security import config, current_actor, now, role_required

FILTER_KEYS = ("keyword", "class", "district", "street", "department", "source", "status", "from", "to", "overdue")


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def query_filters() -> dict[str, str]:
    return {k: request.args.get(k, "").strip() for k in FILTER_KEYS if request.args.get(k, "").strip()}


def case_filters(f: dict[str, str]) -> CaseFilters:
    """The page's query string as search filters (unknown statuses and sources are ignored)."""
    created_from, created_before = local_days(_date(f.get("from")), _date(f.get("to")), config()["TIMEZONE"])
    return CaseFilters(
        keyword=f.get("keyword"), class_code=f.get("class"), district=f.get("district"), street=f.get("street"),
        department=f.get("department"), source=f.get("source") if f.get("source") in SOURCES else None,
        status=f.get("status") if f.get("status") in CASE_STATUSES else None,
        created_from=created_from, created_before=created_before, overdue=bool(f.get("overdue")))


def quick_periods(f: dict[str, str]) -> list[tuple[str, str]]:
    """One-click report periods in the city's days (this week, last week, this month, last week's
    overdue cases), each keeping the other filters: (label, url)."""
    today = now().astimezone(ZoneInfo(config()["TIMEZONE"])).date()
    monday = today - timedelta(days=today.weekday())
    last = (monday - timedelta(days=7), monday - timedelta(days=1))
    periods: list[tuple[str, date, date, dict[str, str]]] = [
        (_("This week"), monday, today, {}), (_("Last week"), *last, {}),
        (_("This month"), today.replace(day=1), today, {}), (_("Last week, overdue"), *last, {"overdue": "1"})]
    urls = []
    for label, a, b, extra in periods:
        args: dict[str, str] = {**f, "from": a.isoformat(), "to": b.isoformat(), **extra}
        urls.append((label, url_for("cases.search", **args)))  # type: ignore[arg-type]  # url_for's kwargs are Any
    return urls


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
        class_name=lambda code: pick(ref.classes[code].name, ref.classes[code].name_en)
        if code in ref.classes else code,
        region=lambda code: refdata.region_name(ref, code))

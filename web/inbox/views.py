"""The inbox: my tasks and my group's tasks, filtered, counted per light, keyset-paginated."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from engine.calendar import get_calendar
from engine.commands import claim, release
from engine.db import transaction
from engine.errors import CityCaseError
from engine.model import INBOX_ROLES, LIGHTS, Light
from engine.queries import Tab, TaskFilters, local_days, parse_cursor, visible_tasks
from engine.queries.marks import supervision_marks
from engine.queries.tasks import PAGE_SIZE, TaskSort, tab_counts
from web.auth.views import safe_next
from web.cases import reference as refdata
from web.cases.display import age_text, pick, remaining_text
from web.extensions import get_session, state
from web.inbox import bp
from web.security import config, current_actor, engine_context, now, role_required

FILTER_KEYS = ("class", "district", "street", "grid", "light", "source", "from", "to", "sort")
SORTS = tuple(TaskSort)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters() -> dict[str, str]:
    return {k: request.args.get(k, "").strip() for k in FILTER_KEYS if request.args.get(k, "").strip()}


def _task_filters(tab: str, f: dict[str, str]) -> TaskFilters:
    created_from, created_before = local_days(_date(f.get("from")), _date(f.get("to")), config()["TIMEZONE"])
    return TaskFilters(tab=Tab(tab), class_code=f.get("class"), district=f.get("district"), street=f.get("street"),
                       grid=f.get("grid"), light=Light(f["light"]) if f.get("light") in LIGHTS else None,
                       source=f.get("source"), created_from=created_from, created_before=created_before,
                       sort=TaskSort(f["sort"]) if f.get("sort") in SORTS else TaskSort.DUE)


@bp.route("/inbox")
@role_required(*INBOX_ROLES)
def inbox():
    actor = current_actor()
    session = get_session()
    tab = request.args.get("tab", "mine")
    if tab not in ("mine", "group"):
        tab = "mine"
    f = _filters()
    instant = now()
    filters = _task_filters(tab, f)
    page = visible_tasks(session, actor, filters, parse_cursor(request.args.get("after")),
                         at=instant, limit=PAGE_SIZE, with_counts=True)
    marks = supervision_marks(session, page.items)
    cal = get_calendar(session, config()["TIMEZONE"], config()["WORK_WINDOWS"])
    ref = refdata.reference(session)
    rows: list[dict[str, Any]] = []
    for r in page.items:
        rows.append({
            "row": r,
            "class_name": pick(r.class_name, r.class_name_en),
            "district": refdata.region_name(ref, r.district_code),
            "street": refdata.region_name(ref, r.street_code),
            "age": age_text(r.case_created_at, instant),
            "light": r.light_at(instant),
            "remaining": remaining_text(cal, instant, r.due_at, r.natural_time),
            "mark": marks.get(r.id),
        })
    next_url = None
    if page.next is not None:
        next_url = url_for("inbox.inbox", tab=tab, after=page.next.encode(), **f)
    return render_template(
        "inbox/inbox.html", tab=tab, rows=rows, counts=page.counts, total=page.total, filters=f,
        next_url=next_url, first_url=url_for("inbox.inbox", tab=tab, **f) if request.args.get("after") else None,
        classes=[c for c in ref.classes.values() if c.active], districts=refdata.districts(ref),
        streets=refdata.streets(ref, f.get("district")), lights=LIGHTS,
        light_url=lambda value: url_for("inbox.inbox", tab=tab, **{**f, "light": value}),
        tab_url=lambda value: url_for("inbox.inbox", tab=value, **f), tab_counts=tab_counts(session, actor, filters),
        sort=filters.sort, sort_url=lambda value: url_for("inbox.inbox", tab=tab, **{**f, "sort": value}))


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("inbox.inbox"))


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@role_required(*INBOX_ROLES)
def claim_task(task_id: str):
    claim(get_session(), engine_context(), task_id, current_actor())
    flash(_("Task claimed: it is now in “My tasks”."), "info")
    return redirect(_back())


@bp.route("/tasks/claim", methods=["POST"])
@role_required(*INBOX_ROLES)
def claim_many():
    """Claim the ticked tasks, each in its own transaction: one taken meanwhile does not undo the rest."""
    actor = current_actor()
    claimed, missed = 0, 0
    get_session().rollback()  # no open read snapshot while the claims commit (see task_form.submitted_data)
    for task_id in request.form.getlist("task")[:PAGE_SIZE]:
        try:
            with transaction(state().factory) as s:
                claim(s, engine_context(), task_id, actor)
            claimed += 1
        except CityCaseError:
            missed += 1
    if claimed:
        flash(ngettext("%(num)d task claimed: it is now in “My tasks”.",
                       "%(num)d tasks claimed: they are now in “My tasks”.", claimed), "success")
    if missed:
        flash(ngettext("%(num)d task could not be claimed: someone else took it or it is closed.",
                       "%(num)d tasks could not be claimed: someone else took them or they are closed.", missed),
              "error")
    if not claimed and not missed:
        flash(_("Tick the tasks to claim first."), "info")
    return redirect(_back())


@bp.route("/inbox/count.json")
@role_required(*INBOX_ROLES)
def inbox_count():
    """How many tasks each tab holds now: the page polls this to say when new tasks arrive."""
    counts = tab_counts(get_session(), current_actor(), TaskFilters())
    return jsonify({"mine": counts[Tab.MINE], "group": counts[Tab.GROUP]})


@bp.route("/tasks/<task_id>/release", methods=["POST"])
@role_required(*INBOX_ROLES)
def release_task(task_id: str):
    release(get_session(), engine_context(), task_id, current_actor())
    flash(_("Claim cancelled: the task is back in the group's tasks."), "info")
    return redirect(_back())


from web.inbox import task_form  # noqa: E402,F401  (the task form routes)

"""Case pages, photo upload and photo serving, supervision orders."""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from engine import definitions
from engine.calendar import get_calendar
from engine.commands import correct_case, supervise
from engine.commands.correct import CORRECTORS
from engine.commands.followup import MERGERS, REOPEN_DAYS
from engine.errors import Forbidden, NotFound, ValidationError
from engine.model import OPEN_STATUSES
from engine.models import Attachment, GridCell
from engine.queries import (
    HistoryEvent,
    case_history,
    case_view,
    may_act_on_task,
    may_see_case,
    may_supervise,
)
from engine.queries.assignment import display_names
from engine.queries.public import merge_link
from web.assets import leaflet_installed
from web.cases import bp
from web.cases import reference as refdata
from web.cases.attachments import STAGES, attachment_case, case_photos, store_upload, thumbnail
from web.cases.display import URGENCY_NAMES, named, person, pick, remaining_text, task_name
from web.cases.followup import duplicate_candidates, may_reopen
from web.extensions import get_session, limiter
from web.geo_display import to_display, wkt_polygon_display
from web.messages import PageForbidden, PageNotFound, error_message, field_messages, upload_message
from web.security import (
    config,
    current_actor,
    engine_context,
    now,
    optional_actor,
    role_required,
)

STAFF = ("acceptor", "shift_leader", "dispatcher", "handler", "leader", "supervisor", "auditor", "admin")


def _public_limit() -> str:
    return config()["PUBLIC_RATE_LIMIT"]


def _signed_in() -> bool:
    return bool(current_user and current_user.is_authenticated)


def anonymous_uploader() -> str:
    """A per-browser pseudonym for photos uploaded without signing in."""
    name = session.get("anon")
    if not name:
        name = "public:" + secrets.token_urlsafe(9)
        session["anon"] = name
    return name


def visible_case(number: str):
    """The case view for the signed-in user, with the pages' own (translated) messages."""
    try:
        return case_view(get_session(), optional_actor(), number)
    except NotFound:
        raise PageNotFound(_("Case %(number)s does not exist.", number=number)) from None
    except Forbidden:
        raise PageForbidden(_("You may not see case %(number)s.", number=number)) from None


def form_summary(definition, spec_id: str | None, form_data: dict[str, Any]) -> list[tuple[str, str]]:
    """A submitted form as (label, value) pairs in the UI language; photos are left to
    :func:`form_photos` (shown as thumbnails, not counted)."""
    info = definition.user_tasks.get(spec_id or "") if definition else None
    items = []
    for key, value in form_data.items():
        label, shown = key, value
        if info is not None and key in info.form:
            f = info.form.field(key)
            label = pick(f.label, f.label_en) or key
            if f.type == "filepicker":
                continue
            if f.type in ("radio", "select") and isinstance(value, str):
                choice = f.choice(value)
                if choice is not None:
                    shown = pick(choice.label, choice.label_en)
                elif f.values_key == "department_options":
                    dept = refdata.reference(get_session()).departments.get(value)
                    shown = pick(dept.name, dept.name_en) if dept else value
            elif f.type == "checkbox":
                shown = _("yes") if value else _("no")
        if shown is None or shown == "" or shown == []:
            continue
        if isinstance(shown, list):
            shown = ", ".join(str(x) for x in shown)
        items.append((label, str(shown)))
    return items


def form_photos(definition, spec_id: str | None, form_data: dict[str, Any]) -> list[str]:
    """The attachment tokens a submitted form holds (its filepicker fields)."""
    info = definition.user_tasks.get(spec_id or "") if definition else None
    if info is None:
        return []
    tokens: list[str] = []
    for f in info.form.fields:
        value = form_data.get(f.key or "")
        if f.type == "filepicker" and isinstance(value, list):
            tokens += [v for v in value if isinstance(v, str)]
    return tokens


def _summary(e: HistoryEvent, definition, auditor: bool) -> list[tuple[str, str]]:
    data = e.data
    if e.kind == "complete":
        return form_summary(definition, e.task_spec, data.get("form") or {})
    if e.kind == "message" and data.get("message") == "device_normal":  # issue 16: a check task follows
        payload = data.get("payload") or {}
        return [(_("Device back to normal"), _("Device %(device)s reports normal again; a supervisor checks on site.",
                                              device=str(payload.get("device", ""))))]
    if e.kind == "message":
        payload = data.get("payload") or {}
        level = {"remind": _("Reminder"), "order": _("Supervision order")}.get(str(payload.get("level")), "")
        return [(level or _("Message"), str(payload.get("text", "")))]
    if e.kind == "timer":  # the timers' ids are internals: auditors only
        fired = ", ".join(data.get("fired", [])) if auditor else ""
        return [(_("Deadline"), _("A deadline or warning time was reached.") + (f" ({fired})" if fired else ""))]
    if e.kind == "start" and (data.get("initial") or {}).get("self_handled"):
        return [(_("Fixed on the spot"), _("yes"))]
    if e.kind == "rating":
        return [(_("Rating"), str(data.get("rating", "")))]
    if e.kind == "correction":
        return _correction_summary(data)
    if e.kind == "assign":  # "派给 张三" (a name, never the account), and why it moved
        names = display_names(get_session(), {str(data.get("to") or "")})
        items = [(_("Assigned to"), names.get(str(data.get("to")), str(data.get("to") or "")))]
        return items + ([(_("Reason"), str(data["reason"]))] if data.get("reason") else [])
    if e.kind == "merge":
        return [(_("Merged into"), str(data.get("original", ""))), (_("Reason"), str(data.get("reason", "")))]
    if e.kind == "duplicate":
        return [(_("Duplicate merged in"), str(data.get("duplicate", ""))), (_("Reason"), str(data.get("reason", "")))]
    if e.kind == "reopen":
        return [(_("Reason"), str(data.get("reason", "")))]
    return []


def _correction_summary(data: dict[str, Any]) -> list[tuple[str, str]]:
    ref = refdata.reference(get_session())
    before, after = data.get("before") or {}, data.get("changes") or {}

    def shown(key: str, value: Any) -> str:
        if key == "class_code":
            c = ref.classes.get(str(value))
            return pick(c.name, c.name_en) if c else str(value)
        if key == "urgency":
            return named(URGENCY_NAMES, str(value))
        if key in ("district_code", "street_code"):
            return refdata.region_name(ref, str(value))
        return str(value)

    labels = {"class_code": _("Class"), "urgency": _("Urgency"), "district_code": _("District"),
              "street_code": _("Street"), "grid_code": _("Grid")}
    items = [(label, f"{shown(k, before.get(k))} → {shown(k, after[k])}") for k, label in labels.items()
             if k in after]
    return items + [(_("Reason"), str(data.get("reason", "")))]


def history_items(events: list[HistoryEvent], definition, auditor: bool = False) -> list[dict[str, Any]]:
    """The history in users' words: who (a name, never an internal id unless ``auditor``), which
    step, what they decided, and the photos they attached."""
    items = []
    for e in events:
        spec = definition.user_tasks.get(e.task_spec) if (definition and e.task_spec) else None
        photos = form_photos(definition, e.task_spec, e.data.get("form") or {}) if e.kind == "complete" else []
        items.append({"seq": e.seq, "at": e.at, "actor": person(e.actor_name), "kind": e.kind,
                      "actor_id": e.actor if auditor else None,
                      "task": task_name(e.task_spec, spec.name if spec else e.task_spec) if e.task_spec else "",
                      "summary": _summary(e, definition, auditor), "photos": photos})
    return items


def map_data(case_like: Any, grid_wkt: str | None) -> dict[str, Any]:
    from web.basemap import outlines

    crs = config()["TILE_CRS"]
    lon, lat = to_display(case_like.lon, case_like.lat, crs)
    return {"point": [round(lat, 7), round(lon, 7)], "ring": wkt_polygon_display(grid_wkt, crs),
            "tiles": config()["TILE_URL"], "crs": crs, "leaflet": leaflet_installed(),
            "outlines": [] if config()["TILE_URL"] else outlines(get_session(), crs)}


@bp.route("/cases/<number>")
@role_required(*STAFF)
def case_page(number: str):
    actor = current_actor()
    s = get_session()
    view = visible_case(number)
    case = view.case
    ref = refdata.reference(s)
    definition = definitions.load(s, case.definition_id)
    instant = now()
    cal = get_calendar(s, config()["TIMEZONE"], config()["WORK_WINDOWS"])
    tasks = [{"row": t, "name": task_name(t.spec_id, t.name), "light": t.light_at(instant),
              "remaining": remaining_text(cal, instant, t.due_at, t.natural_time), "may_act": may_act_on_task(actor, t)}
             for t in view.tasks]
    grid = s.get(GridCell, case.grid_code)
    dept = ref.departments.get(case.department_code) if case.department_code else None
    photos = case_photos(s, case.id)
    return render_template(
        "cases/case.html", case=case, tasks=tasks, history=history_items(case_history(s, actor, case), definition, auditor=actor.role == "auditor"),
        class_name=pick(case.class_name, case.class_name_en), major_name=case.major_name,
        district=refdata.region_name(ref, case.district_code), street=refdata.region_name(ref, case.street_code),
        department=pick(dept.name, dept.name_en) if dept else (case.department_code or ""),
        before=[p for p in photos if p.stage == "report"], after=[p for p in photos if p.stage != "report"],
        map=map_data(case, grid.geometry if grid else None), may_supervise=may_supervise(actor, case),
        may_correct=actor.role in CORRECTORS and case.status == "open",
        duplicates=duplicate_candidates(case), may_merge=actor.role in MERGERS and case.status in OPEN_STATUSES,
        may_reopen=may_reopen(case), reopen_days=REOPEN_DAYS, merge_link=merge_link(s, case.id, case.status),
        correct_classes=[c for c in ref.classes.values() if c.active] if actor.role in CORRECTORS else [])


@bp.route("/cases/<number>/supervise", methods=["POST"])
@role_required("leader")
def supervise_case(number: str):
    case = visible_case(number).case
    level = request.form.get("level", "")
    text = request.form.get("text", "")
    try:
        supervise(get_session(), engine_context(), case.id, current_actor(), level, text)
    except ValidationError as exc:
        from web.extensions import rollback

        rollback()
        flash(_("The order was not sent: %(msg)s", msg=" ".join(field_messages(exc.fields).values())
                or error_message(exc)), "error")
        return redirect(url_for("cases.case_page", number=number))
    flash(_("Your order was sent."), "success")
    return redirect(url_for("cases.case_page", number=number))


@bp.route("/cases/<number>/correct", methods=["POST"])
@role_required(*CORRECTORS)
def correct(number: str):
    """The acceptor's or shift leader's correction of class, urgency or place, with a reason."""
    case = visible_case(number).case
    changes = {k: request.form.get(k, "").strip() for k in ("class_code", "urgency", "lon", "lat")}
    try:
        correct_case(get_session(), engine_context(), case.id, current_actor(),
                     {k: v for k, v in changes.items() if v}, request.form.get("reason", ""))
    except ValidationError as exc:
        from web.extensions import rollback

        rollback()
        flash(_("The case was not corrected: %(msg)s", msg=" ".join(field_messages(exc.fields).values())
                or error_message(exc)), "error")
        return redirect(url_for("cases.case_page", number=number) + "#correct")
    flash(_("Case %(number)s corrected; the change is in its history.", number=number), "success")
    return redirect(url_for("cases.case_page", number=number))


# --- photos ---------------------------------------------------------------------------------------

@bp.route("/attachments", methods=["POST"])
@limiter.limit(_public_limit, exempt_when=_signed_in)
def upload():
    """Store one photo (field "file") and return its token; signed-in staff or anonymous reporters."""
    stage = request.form.get("stage", "report")
    actor = optional_actor()
    if actor is None and stage != "report":
        return jsonify({"error": "forbidden", "message": _("Sign in to add photos to a task.")}), 403
    uploader = actor.username if actor else anonymous_uploader()
    file = request.files.get("file")
    if file is None or not file.filename:
        return jsonify({"error": "ValidationError", "message": _("Choose a photo first."),
                        "fields": {"file": "missing"}}), 400
    try:
        row = store_upload(get_session(), file, stage if stage in STAGES else "report", uploader,
                           config()["UPLOAD_MAX_BYTES"], now())
    except ValidationError as exc:
        return jsonify({"error": "ValidationError", "message": upload_message(exc), "fields": exc.fields}), 400
    return jsonify({"token": row.token, "size": row.size, "content_type": row.content_type,
                    "url": url_for("cases.attachment", token=row.token),
                    "thumb": url_for("cases.attachment", token=row.token, thumb=1)}), 201


def _may_see_attachment(att: Any, case: Any) -> bool:
    follow = request.args.get("follow")
    if follow and case is not None and case.public_token and secrets.compare_digest(follow, case.public_token):
        return True
    actor = optional_actor()
    if case is None:  # uploaded, not yet part of a case: only its uploader
        who = actor.username if actor else session.get("anon")
        return bool(who) and who == att.uploaded_by
    return actor is not None and actor.role in STAFF and may_see_case(actor, case)


@bp.route("/attachments/<token>")
def attachment(token: str):
    s = get_session()
    att, case = attachment_case(s, token)
    if att is None or not _may_see_attachment(att, case):
        abort(404)
    content = s.scalar(select(Attachment.content).where(Attachment.id == att.id))
    if content is None:  # deleted since the lookup above
        abort(404)
    content_type = att.content_type
    if request.args.get("thumb"):
        content, content_type = thumbnail(content, content_type)
    response = current_app_response(content, content_type)
    return response


def current_app_response(content: bytes, content_type: str):
    from flask import Response

    response = Response(content, mimetype=content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Disposition"] = "inline"
    return response


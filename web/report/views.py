"""Reporting: the supervisors' phone page, the public report page and the citizen follow-up page."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine.commands import CaseResult, rate_case, reopen_case, start_case
from engine.commands.followup import answer_callback, reopen_until
from engine.errors import CityCaseError, Conflict, NotFound, ValidationError
from engine.model import Actor, Role
from engine.models import GridCell
from engine.queries.public import PublicCase, follow_token, followed_case, milestones, public_case
from web.cases import reference as refdata
from web.cases.attachments import case_photos, store_upload
from web.cases.display import pick
from web.cases.views import anonymous_uploader
from web.extensions import get_session, limiter, rollback
from web.geo_display import from_display
from web.messages import PageNotFound, error_message, field_messages, upload_message
from web.report import bp
from web.security import config, current_actor, engine_context, now, optional_actor, role_required

REPORT_KEYS = ("class_code", "lat", "lon", "coord_crs", "component_id", "address", "description", "photos",
               "contact", "urgency", "idempotency_key")


def fresh_values() -> dict[str, Any]:
    """An empty report form; its idempotency key goes with every send of this one report (the page's
    draft keeps it), so a repeated send makes one case."""
    return {"coord_crs": "WGS84", "idempotency_key": secrets.token_urlsafe(24)}


def _public_limit() -> str:
    return config()["PUBLIC_RATE_LIMIT"]


def class_groups() -> list[dict[str, Any]]:
    """Active classes grouped by major class (kind + major code), for the major → minor picker."""
    ref = refdata.reference(get_session())
    groups: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for c in ref.classes.values():
        if not c.active:
            continue
        key = f"{c.kind[0].upper()}{c.major}"
        kind = _("Component") if c.kind == "component" else _("Event")
        group = groups.setdefault(key, {"key": key, "label": f"{kind} {c.major} · {c.major_name}", "classes": [],
                                        "codes": set()})
        group["classes"].append((c.code, pick(c.name, c.name_en)))
        group["codes"].add(c.code)
    return list(groups.values())


def city_map() -> dict[str, Any]:
    from web.assets import leaflet_installed

    s = get_session()
    bbox = s.execute(select(func.min(GridCell.min_lon), func.min(GridCell.min_lat), func.max(GridCell.max_lon),
                            func.max(GridCell.max_lat))).one()
    center = [30.27, 120.19] if bbox[0] is None else [(bbox[1] + bbox[3]) / 2, (bbox[0] + bbox[2]) / 2]
    from web.geo_display import to_display

    crs = config()["TILE_CRS"]
    lon, lat = to_display(center[1], center[0], crs)
    ring: list[list[float]] = []
    if bbox[0] is not None and not config()["TILE_URL"]:  # without tiles: the city's outline for orientation
        corners = ((bbox[0], bbox[1]), (bbox[2], bbox[1]), (bbox[2], bbox[3]), (bbox[0], bbox[3]), (bbox[0], bbox[1]))
        ring = [[round(y, 7), round(x, 7)] for x, y in (to_display(cx, cy, crs) for cx, cy in corners)]
    from web.basemap import outlines

    return {"center": [lat, lon], "point": None, "ring": ring, "tiles": config()["TILE_URL"], "crs": crs,
            "leaflet": leaflet_installed(), "outlines": [] if config()["TILE_URL"] else outlines(s, crs)}


def _tokens(text: str) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _float(text: str | None) -> Any:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        return text  # the engine reports it as "not a number"


def build_report(source: str, uploader: str, stage_errors: dict[str, str],
                 fresh: list[str] | None = None) -> dict[str, Any]:
    """The report from the form. Photos sent with it are stored in the request's transaction, so
    they are kept only if the report is (their tokens are appended to ``fresh``)."""
    form = request.form
    photos = _tokens(form.get("photos", ""))
    files = [fs for fs in request.files.getlist("photos__files") if fs and fs.filename]
    try:
        for fs in files:
            token = store_upload(get_session(), fs, "report", uploader, config()["UPLOAD_MAX_BYTES"], now()).token
            photos.append(token)
            if fresh is not None:
                fresh.append(token)
    except ValidationError as exc:
        stage_errors["photos"] = upload_message(exc)
    report: dict[str, Any] = {"source": source, "class_code": form.get("class_code", ""),
                              "description": form.get("description", "").strip(),
                              "address": form.get("address", "").strip(), "photos": photos}
    component = form.get("component_id", "").strip()
    lon, lat = _float(form.get("lon")), _float(form.get("lat"))
    if component:
        report["component_id"] = component
    else:
        if isinstance(lon, float) and isinstance(lat, float) and form.get("coord_crs", "WGS84").upper() == "GCJ02":
            lon, lat = from_display(lon, lat, "GCJ02")
        report["lon"], report["lat"] = lon, lat
    if form.get("urgency") in ("normal", "urgent", "emergency"):
        report["urgency"] = form["urgency"]
    return report


def _values() -> dict[str, Any]:
    values: dict[str, Any] = {k: request.form.get(k, "") for k in REPORT_KEYS}
    values["self_handled"] = bool(request.form.get("self_handled"))
    return values


def _submit(source: str, actor: Actor, extra: dict[str, Any]) -> tuple[CaseResult | None, dict[str, Any],
                                                                        dict[str, str], str | None]:
    errors: dict[str, str] = {}
    fresh: list[str] = []
    report = build_report(source, actor.username, errors, fresh)
    report.update(extra)
    values = _values()
    # photos sent with a refused report are rolled back with it: the form asks for them again
    values["photos"] = ",".join(t for t in report["photos"] if t not in fresh)
    if errors:
        rollback()
        return None, values, errors, None
    key = request.form.get("idempotency_key", "").strip() or None
    try:
        try:
            result = start_case(get_session(), engine_context(), report, actor, idempotency_key=key)
        except IntegrityError:  # the same key sent twice at once: the other send made the case
            rollback()
            result = start_case(get_session(), engine_context(), report, actor, idempotency_key=key)
    except ValidationError as exc:
        rollback()
        # The engine names each bad field with a fixed phrase (engine.commands.report): translated here.
        fields = field_messages(exc.fields or {})
        if fields.get("lat") == fields.get("lon"):
            fields.pop("lat", None)  # one place, one message (shown next to the location)
        if "component_id" in report and "lon" in fields:
            fields["component_id"] = fields.pop("lon")
        return None, values, fields, None if fields else error_message(exc)
    except CityCaseError:  # e.g. an unknown component id
        rollback()
        if "component_id" in report:
            return None, values, {"component_id": _("There is no component with this number.")}, None
        return None, values, {"lon": _("Please check the place and try again.")}, None
    return result, values, {}, None


@bp.route("/report/mobile", methods=["GET", "POST"])
@role_required("supervisor")
def mobile():
    values: dict[str, Any] = fresh_values()
    errors: dict[str, str] = {}
    message = None
    if request.method == "POST":
        actor = current_actor()
        result, values, errors, message = _submit(
            "supervisor", actor, {"self_handled": bool(request.form.get("self_handled"))})
        if result is not None:
            flash(_("Case %(number)s reported. Thank you!", number=result.number), "success")
            return redirect(url_for("cases.case_page", number=result.number))
    return render_template("report/mobile.html", values=values, errors=errors, message=message,
                           groups=class_groups(), map=city_map()), (400 if errors or message else 200)


@bp.route("/report/public", methods=["GET", "POST"])
@limiter.limit(_public_limit, methods=["POST"])
def public():
    values: dict[str, Any] = fresh_values()
    errors: dict[str, str] = {}
    message = None
    if request.method == "POST":
        signed_in = optional_actor()
        uploader = signed_in.username if signed_in else anonymous_uploader()
        contact = request.form.get("contact", "").strip()
        if len(contact) > 100:
            errors["contact"] = _("At most 100 characters.")
        else:
            result, values, errors, message = _submit("citizen", Actor(uploader, "citizen"),
                                                      {"reporter": contact or _("citizen")})
            if result is not None:
                token = follow_token(get_session(), result.case_id)
                follow = url_for("report.follow", token=token, _external=True)
                return render_template("report/public_done.html", number=result.number, follow=follow), 201
    return render_template("report/public.html", values=values, errors=errors, message=message,
                           groups=class_groups(), map=city_map()), (400 if errors or message else 200)


@bp.route("/report/similar")
@limiter.limit(_public_limit)
def similar():
    """Open cases that may be the same problem, while a report is being typed: staff get the
    numbers, an anonymous reporter only how many (their reports stay private)."""
    from engine.queries.similar import similar_open_cases

    lon, lat = _float(request.args.get("lon")), _float(request.args.get("lat"))
    if not (isinstance(lon, float) and isinstance(lat, float)):
        lon = lat = None
    elif request.args.get("coord_crs", "WGS84").upper() == "GCJ02":
        lon, lat = from_display(lon, lat, "GCJ02")
    actor = optional_actor()
    found = similar_open_cases(get_session(), actor if actor and actor.role != "citizen" else None,
                               class_code=request.args.get("class_code", ""), lon=lon, lat=lat,
                               component_id=request.args.get("component_id") or None, at=now())
    body: dict[str, Any] = {"count": len(found)}
    if actor is not None and actor.role != "citizen":
        body["cases"] = [{"number": c.number, "distance_m": c.distance_m, "address": c.address,
                          "url": url_for("cases.case_page", number=c.number)} for c in found]
    return jsonify(body)


# --- follow-up ---------------------------------------------------------------------------------

PUBLIC_STEPS = {
    "verify": ("已现场核实", "Verified on site"), "accept": ("已受理", "Accepted"), "file": ("已立案", "Filed"),
    "dispatch": ("已派遣至责任单位", "Sent to the responsible department"),
    "handle": ("责任单位已反馈处理结果", "The department reported its work"),
    "check": ("已现场核查", "Checked on site"), "close": ("已结案", "Closed"),
    "confirm_self_handled": ("已当场处理", "Fixed on the spot"),
    "Followup_callback": ("已回访", "We asked you whether it is solved"),
    "reopen": ("问题未解决，已重开，将重新处理", "Not solved: reopened, to be handled again"),
}
PUBLIC_STATUS = {
    "open": ("处理中", "in progress"), "suspended": ("暂缓处理", "on hold"), "closed": ("已办结", "closed"),
    "voided": ("不予立案", "not accepted"), "invalid": ("无效", "invalid"),
    "merged": ("已与相同问题合并", "merged with the same problem"),
}


def _case_by_token(token: str) -> PublicCase:
    try:
        return public_case(get_session(), token)
    except NotFound:
        raise PageNotFound(_("This follow-up link is not valid.")) from None


def public_progress(case: PublicCase) -> list[dict[str, Any]]:
    """Milestones only: no notes, no names."""
    steps = [{"at": case.created_at, "label": pick("已上报", "Reported")}]
    for m in milestones(get_session(), case.id):
        names = PUBLIC_STEPS.get(m.step)
        if names is None:
            continue
        label = pick(*names)
        if m.step == "file" and m.decision == "void":
            label = pick("不予立案", "Not accepted")
        elif m.decision == "reopen":
            label = pick("问题未解决，已重开，将重新处理", "Not solved: reopened, to be handled again")
        steps.append({"at": m.at, "label": label})
    return steps


@bp.route("/follow/<token>")
def follow(token: str):
    case = _case_by_token(token)
    followed = followed_case(get_session(), case)  # a merged duplicate's reporter follows the original
    ref = refdata.reference(get_session())
    pclass = ref.classes.get(case.class_code)
    until = reopen_until(followed.closed_at)
    return render_template(
        "report/follow.html", case=case, token=token, steps=public_progress(followed), followed=followed,
        status=pick(*PUBLIC_STATUS.get(followed.status, (followed.status, followed.status))),
        class_name=pick(pclass.name, pclass.name_en) if pclass else case.class_code,
        district=refdata.region_name(ref, case.district_code), street=refdata.region_name(ref, case.street_code),
        photos=case_photos(get_session(), case.id), may_rate=case.may_rate,
        may_reopen=followed.status == "closed" and until is not None and now() <= until, reopen_until=until)


@bp.route("/follow/<token>/reopen", methods=["POST"])
@limiter.limit(_public_limit)
def reopen(token: str):
    """The reporter says the problem is not solved (within the reopen window): a new round."""
    from engine.commands.followup import Refusal
    from web.cases.followup import REFUSALS, refusal_message

    followed = followed_case(get_session(), _case_by_token(token))
    reason = request.form.get("reason", "").strip()
    if not reason or len(reason) > 500:
        flash(str(REFUSALS[Refusal.REASON]), "error")
        return redirect(url_for("report.follow", token=token) + "#reopen")
    try:
        reopen_case(get_session(), engine_context(), followed.id, Actor("reporter", Role.CITIZEN), reason)
    except (ValidationError, Conflict) as exc:
        rollback()
        flash(_("The case was not reopened: %(msg)s", msg=refusal_message(exc)), "error")
        return redirect(url_for("report.follow", token=token))
    flash(_("Thank you. The case has been reopened and will be handled again."), "success")
    return redirect(url_for("report.follow", token=token))


@bp.route("/follow/<token>/rate", methods=["POST"])
@limiter.limit(_public_limit)
def rate(token: str):
    case = _case_by_token(token)
    if case.status != "closed":
        flash(_("You can rate the result once the case is closed."), "error")
        return redirect(url_for("report.follow", token=token))
    if case.rating is not None:
        flash(_("This case has already been rated. Thank you!"), "info")
        return redirect(url_for("report.follow", token=token))
    try:
        rating = int(request.form.get("rating", ""))
    except ValueError:
        rating = 0
    note = request.form.get("note", "").strip()
    if not 1 <= rating <= 5 or len(note) > 1000:
        flash(_("Choose 1 to 5 stars; the comment may have at most 1000 characters."), "error")
        return redirect(url_for("report.follow", token=token))
    try:
        rate_case(get_session(), engine_context(), case.id, rating, note)
        answer_callback(get_session(), engine_context(), case.id, rating, note)  # the 回访, answered on the web
    except Conflict:
        rollback()
        flash(_("This case has already been rated. Thank you!"), "info")
        return redirect(url_for("report.follow", token=token))
    flash(_("Thank you for your rating!"), "success")
    return redirect(url_for("report.follow", token=token))

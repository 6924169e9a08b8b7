"""The supervisor's duty page on the phone and the shift leader's field map."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.errors import ValidationError
from engine.model import Role
from engine.models import User
from engine.patrol.attendance import attendance
from engine.patrol.coverage import coverage, track
from engine.patrol.duty import duty_state, end_duty, start_duty
from engine.patrol.models import Attendance
from web.devices.layer import device_layer
from web.extensions import get_session
from web.geo_display import to_display
from web.patrol import bp
from web.report.views import city_map
from web.security import config, current_actor, now, role_required

MAP_ROLES = (Role.SHIFT_LEADER, Role.ADMIN)
MAX_TRACK_POINTS = 2000  # a day at one point per 15 s is ~1,900; thinned beyond that


def status_label(status: Attendance) -> str:
    return {Attendance.ON_TIME: _("on time"), Attendance.LATE: _("late"), Attendance.EARLY: _("left early"),
            Attendance.LATE_AND_EARLY: _("late and left early"), Attendance.ABSENT: _("absent"),
            Attendance.ON_DUTY: _("on duty"), Attendance.NOT_STARTED: _("shift not started")}[status]


def _today() -> date:
    return now().astimezone(ZoneInfo(config()["TIMEZONE"])).date()


@bp.get("/duty")
@role_required(Role.SUPERVISOR)
def duty():
    actor = current_actor()
    s = get_session()
    today = _today()
    rows = attendance(s, today, today, now(), actor.username)
    return render_template("patrol/duty.html", state=duty_state(s, actor.username), shift=rows[0] if rows else None,
                           status_label=status_label, interval=config()["PATROL_INTERVAL_SECONDS"],
                           username=actor.username)


@bp.post("/duty")
@role_required(Role.SUPERVISOR)
def change_duty():
    actor = current_actor()
    action = request.form.get("action")
    if action == "start":
        start_duty(get_session(), actor.username, now())
    elif action == "end":
        end_duty(get_session(), actor.username, now())
    else:
        raise ValidationError(_("Choose start or end of duty."), {"action": "start | end"})
    return redirect(url_for("patrol.duty"))


def _day_arg() -> date:
    raw = request.args.get("day", "")
    if not raw:
        return _today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(_("The day is a date like 2026-11-25."), {"day": "YYYY-MM-DD"}) from None


def _tracks(day: date, users: list[str], crs: str, names: dict[str, str]) -> list[dict[str, Any]]:
    s = get_session()
    out = []
    for user in users:
        points = track(s, user, day, config()["TIMEZONE"])
        if not points:
            continue
        step = max(1, len(points) // MAX_TRACK_POINTS + (1 if len(points) % MAX_TRACK_POINTS else 0))
        line = []
        for p in points[::step] + ([points[-1]] if (len(points) - 1) % step else []):
            x, y = to_display(p.lon, p.lat, crs)
            line.append([round(y, 7), round(x, 7)])
        out.append({"user": names.get(user, user), "line": line, "last": _local(points[-1].at)})
    return out


def _local(at: datetime) -> str:
    return at.astimezone(ZoneInfo(config()["TIMEZONE"])).strftime("%H:%M")


@bp.get("/map")
@role_required(*MAP_ROLES)
def field_map():
    s = get_session()
    day = _day_arg()
    crs = config()["TILE_CRS"]
    rows = attendance(s, day, day, now())
    cover = {c.username: c for c in coverage(s, day, config()["TIMEZONE"])}
    users = sorted(set(cover) | {r.username for r in rows})
    names = {u: n for u, n in s.execute(select(User.username, User.display_name).where(User.username.in_(users)))}
    data = city_map()
    data["tracks"] = _tracks(day, users, crs, names)
    data["devices"] = device_layer(s, crs)
    data["labels"] = {"devices": _("Devices"), "tracks": _("Supervisors' tracks"), "last": _("last position")}
    return render_template("patrol/map.html", map=data, day=day, by_user={r.username: r for r in rows},
                           cover=cover, users=users, names=names, status_label=status_label)

"""The notification pages: each person's notices and preferences; the admins' dead letters."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.errors import NotFound, ValidationError
from engine.notify.queries import (
    Preferences,
    dead_letters,
    mark_all_read,
    notices_for,
    preferences,
    retry_dead_letter,
    save_preferences,
)
from engine.outbox import pending_count
from web.extensions import get_session, rollback
from web.notifications import bp
from web.security import now, role_required

FIELD_LABELS = {"email": _l("E-mail"), "phone": _l("Phone"), "quiet_from": _l("Quiet from"),
                "quiet_to": _l("Quiet until")}


@bp.route("/notifications")
@role_required()
def notices() -> Any:
    return render_template("notifications/notices.html", notices=notices_for(get_session(), current_user.username))


@bp.route("/notifications/read", methods=["POST"])
@role_required()
def read_all() -> Any:
    mark_all_read(get_session(), current_user.username, now())
    return redirect(url_for("notifications.notices")), 303


@bp.route("/notifications/settings")
@role_required()
def settings() -> Any:
    return render_template("notifications/settings.html", prefs=preferences(get_session(), current_user.id),
                           errors={})


@bp.route("/notifications/settings", methods=["POST"])
@role_required()
def save_settings() -> Any:
    form = request.form
    wanted = Preferences(email=form.get("email", ""), phone=form.get("phone", ""),
                         email_on=form.get("email_on") == "on", webhook_on=form.get("webhook_on") == "on",
                         quiet_from=form.get("quiet_from", ""), quiet_to=form.get("quiet_to", ""))
    try:
        save_preferences(get_session(), current_user.id, wanted)
    except ValidationError as exc:
        rollback()
        errors = {key: str(FIELD_LABELS.get(key, key)) for key in (exc.fields or {})}
        flash(_("Not saved: check %(fields)s.", fields=", ".join(errors.values())), "error")
        return render_template("notifications/settings.html", prefs=wanted, errors=errors), 400
    flash(_("Your notification settings are saved."), "ok")
    return redirect(url_for("notifications.settings")), 303


@bp.route("/admin/notifications")
@role_required("admin")
def dead_letter_page() -> Any:
    s = get_session()
    return render_template("notifications/dead_letters.html", letters=dead_letters(s),
                           backlog=pending_count(s, now()))


@bp.route("/admin/notifications/<int:outbox_id>/retry", methods=["POST"])
@role_required("admin")
def retry(outbox_id: int) -> Any:
    try:
        retry_dead_letter(get_session(), outbox_id, now())
    except NotFound:
        rollback()
        abort(404)
    flash(_("The message will be sent again at the next scheduler tick."), "ok")
    return redirect(url_for("notifications.dead_letter_page")), 303

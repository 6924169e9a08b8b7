"""What every admin page shares: the role check, the actor, the translated refusal."""

from __future__ import annotations

from typing import Any

from flask import current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.errors import CityCaseError, Conflict
from engine.model import Actor
from web.admin import bp
from web.extensions import rollback
from web.security import current_actor, role_required

# The engine's field reasons (engine.admin.*), in the user's language.
REASONS = {
    "required": _l("This field is required."),
    "not one of the allowed values": _l("Choose one of the listed values."),
    "no such active department": _l("Choose an active department."),
    "no such district": _l("Choose a district of the city."),
    "1 to 100 characters": _l("Give 1 to 100 characters."),
    "at most 100 characters": _l("Give at most 100 characters."),
    "too long": _l("The text is too long."),
    "3 to 64 letters, digits or . _ - @": _l("Use 3 to 64 letters, digits or . _ - @."),
    "2 to 64 letters, digits or . _ - @": _l("Use 2 to 64 letters, digits or . _ - @."),
    "lower-case letters, digits and _ (e.g. sanitation)": _l("Use lower-case letters, digits and _ "
                                                             "(e.g. sanitation)."),
    "a number above 0 and at most 10000": _l("Give a number above 0 and at most 10000."),
    "4 digits (legacy scheme) or 5 digits (newer scheme)": _l("Give 4 digits (legacy scheme) or 5 digits "
                                                              "(newer scheme)."),
    "yourself": _l("You cannot disable your own account."),
}
# engine.sessions.password_problems' rules.
PASSWORD_RULES = {
    "at least 10 characters": _l("at least 10 characters"), "at most 128 characters": _l("at most 128 characters"),
    "letters and digits": _l("letters and digits"),
    "not one of the most common passwords": _l("not one of the most common passwords"),
    "not containing the user name": _l("not containing the user name"),
    "at least 5 different characters": _l("at least 5 different characters"),
}
FIELD_NAMES = {
    "username": _l("User name"), "display_name": _l("Name"), "role": _l("Role"), "password": _l("Password"),
    "department_code": _l("Department"), "district_code": _l("District"), "code": _l("Code"),
    "name": _l("Name"), "name_en": _l("English name"), "handler_type": _l("Kind of unit"),
    "major_name": _l("Major class name"), "suggested_limit": _l("Time limit"), "suggested_unit": _l("Unit"),
    "urgency": _l("Urgency"), "kind": _l("Kind"), "digits": _l("Class code digits"), "note": _l("Note"),
}


@bp.before_request
@role_required("admin")
def _admins_only() -> None:
    """Every /admin page and form: admins only (a 403 page for other roles, sign-in for visitors)."""
    return None


def actor() -> Actor:
    return current_actor()


def problems_of(exc: CityCaseError) -> list[str]:
    """One translated line per refused field; the password policy's list stays as the engine says it."""
    if isinstance(exc, Conflict):
        return [_("That user name or code is taken already: choose another.")]
    fields: dict[str, str] = getattr(exc, "fields", {}) or {}
    lines = []
    for field, reason in fields.items():
        label = str(FIELD_NAMES.get(field, field))
        if field == "password":
            rules = "; ".join(str(PASSWORD_RULES.get(rule, rule)) for rule in reason.split("; "))
            lines.append(_("%(field)s: the password must have: %(rules)s", field=label, rules=rules))
        else:
            lines.append(f"{label}: {REASONS.get(reason, reason)}")
    return lines or [str(exc)]


def refused(template: str, exc: CityCaseError, status: int | None = None, **context: Any):
    """Roll the request back and show the form again with what was wrong (4xx)."""
    rollback()
    return make_response(render_template(template, problems=problems_of(exc), **context),
                         status or getattr(exc, "http_status", 400))


def devices_page() -> str | None:
    """The device admin page (#16) when installed: linked from the admin navigation."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule == "/admin/devices" and "GET" in (rule.methods or ()):
            return rule.rule
    return None


@bp.app_context_processor
def _admin_context() -> dict[str, Any]:
    from web.audit.display import role_label

    return {"admin_devices_page": devices_page, "role_label": role_label, "unit_label": unit_label,
            "urgency_label": urgency_label, "admin_kind_label": admin_kind_label, "mark_label": mark_label}


def unit_label(unit: str) -> str:
    return str({"minute": _l("minutes"), "workhour": _l("working hours"), "workday": _l("working days")}
               .get(unit, unit))


def urgency_label(urgency: str) -> str:
    return str({"normal": _l("normal"), "urgent": _l("urgent"), "emergency": _l("emergency")}.get(urgency, urgency))


def mark_label(mark: str) -> str:
    return str({"workday": _l("working day"), "holiday": _l("day off / holiday"),
                "makeup": _l("make-up working day (调休)")}.get(mark, mark))


def admin_kind_label(kind: str) -> str:
    names = {
        "user_created": _l("account created"), "user_changed": _l("account changed"),
        "user_disabled": _l("account disabled"), "user_enabled": _l("account enabled"),
        "password_reset": _l("password reset"), "department_created": _l("department created"),
        "department_changed": _l("department changed"), "grid_imported": _l("grid imported"),
        "class_created": _l("class created"), "class_changed": _l("class changed"),
        "components_imported": _l("components imported"), "calendar_day_set": _l("calendar day marked"),
        "calendar_imported": _l("calendar year imported"),
    }
    return str(names.get(kind, kind))


@bp.after_request
def _forget_reference_caches(response):
    """An admin change shows at once in this process's pages (others re-read within their cache TTL)."""
    if request.method == "POST" and response.status_code < 400:
        from web import basemap
        from web.cases import reference

        reference.clear()
        basemap.clear()
    return response

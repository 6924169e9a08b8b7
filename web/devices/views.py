"""/admin/devices: the device registry for admins. A key is shown once, in the response to the
form that made it (never flashed: flashed messages travel in the readable session cookie), with
``Cache-Control: no-store``; only its hash is stored (engine.devices.registry)."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.devices.models import DeviceKind
from engine.devices.registry import NewDevice, add_device, list_devices, new_key, revoke_key
from engine.errors import CityCaseError, Conflict, ValidationError
from engine.models import Department
from web.devices import bp
from web.devices.layer import kind_label, state_label
from web.extensions import get_session, rollback
from web.messages import error_message
from web.security import now, role_required


def _number(name: str) -> float | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a number", {name: "number"}) from None


def _explain(exc: CityCaseError) -> str:
    """The refusal in the user's language, field by field."""
    if isinstance(exc, Conflict):
        return _("A device with this id already exists.")
    words = {"id": _("A device id is 1–40 letters, digits, '_', '.' or '-'."),
             "kind": _("Choose the device's kind."), "department": _("Choose an existing owner department."),
             "component_id": _("A component id has 16 digits."),
             "location": _("A device needs a place: longitude and latitude, or the component it watches."),
             "lon": _("Longitude and latitude must be numbers (longitude −180…180, latitude −90…90)."),
             "lat": _("Longitude and latitude must be numbers (longitude −180…180, latitude −90…90).")}
    found = [words[f] for f in getattr(exc, "fields", {}) if f in words]
    return " ".join(dict.fromkeys(found)) or error_message(exc)


def _page(status: int = 200, **context):
    s = get_session()
    departments = list(s.execute(select(Department.code, Department.name).order_by(Department.code)))
    response = make_response(render_template(
        "devices/index.html", devices=list_devices(s), kinds=[(k.value, kind_label(k.value)) for k in DeviceKind],
        departments=departments, state_label=state_label, kind_label=kind_label, form=context.pop("form", {}),
        **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@role_required("admin")
def index():
    return _page()


@bp.post("")
@role_required("admin")
def register():
    form = request.form.to_dict()
    try:
        kind = form.get("kind", "")
        if kind not in {k.value for k in DeviceKind}:
            raise ValidationError(_("Choose the device's kind."), {"kind": "unknown"})
        spec = NewDevice(form.get("id", "").strip(), DeviceKind(kind), form.get("department", ""),
                         _number("lon"), _number("lat"), None, form.get("component_id", "").strip() or None)
        row, key = add_device(get_session(), spec, now())
    except CityCaseError as exc:
        rollback()
        return _page(400, error=_explain(exc), form=form)
    return _page(new_key=key, key_device=row.id)


@bp.post("/<device_id>/rotate")
@role_required("admin")
def rotate(device_id: str):
    key = new_key(get_session(), device_id)
    return _page(new_key=key, key_device=device_id)


@bp.post("/<device_id>/deactivate")
@role_required("admin")
def deactivate(device_id: str):
    revoke_key(get_session(), device_id)
    flash(_("Device %(id)s is deactivated: its key no longer works. Rotate the key to use it again.",
            id=device_id), "info")
    return redirect(url_for("devices.index"))

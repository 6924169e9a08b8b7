"""/admin/classes and /admin/components: the problem classification and the component inventory."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.admin import classes, components
from engine.errors import CityCaseError, NotFound
from engine.model import UNITS, URGENCIES
from engine.models import ProblemClass
from web.admin import bp
from web.admin.common import actor, refused
from web.extensions import get_session
from web.security import config, now

MAX_UPLOAD = 20 * 1024 * 1024


def _class_fields() -> classes.ClassFields:
    f = request.form
    try:
        limit = float(f.get("suggested_limit", ""))
    except ValueError:
        limit = -1.0  # refused by the engine's range check, with the field named
    return classes.ClassFields(major_name=f.get("major_name", ""), name=f.get("name", ""),
                               handler_type=f.get("handler_type", ""), suggested_limit=limit,
                               suggested_unit=f.get("suggested_unit", ""), urgency=f.get("urgency", ""),
                               name_en=f.get("name_en", ""))


def _class_context() -> dict[str, Any]:
    return {"all_classes": classes.list_classes(get_session()), "units": UNITS, "urgencies": URGENCIES,
            "unmapped": classes.classes_without_dispatch_rule(get_session())}


@bp.get("/classes")
def class_list():
    return render_template("admin/classes.html", form={}, **_class_context())


@bp.post("/classes")
def class_create():
    try:
        pc = classes.create_class(get_session(), actor(), now(), request.form.get("kind", ""),
                                  request.form.get("digits", ""), _class_fields())
    except CityCaseError as exc:
        return refused("admin/classes.html", exc, form=request.form, **_class_context())
    flash(_("Class %(code)s created. Add a rule for it to the dispatch table (dispatch.dmn) in the process "
            "designer, or dispatchers get no suggested department for it.", code=pc.code), "warning")
    return redirect(url_for("admin.class_page", code=pc.code))


@bp.get("/classes/<code>")
def class_page(code: str):
    pc = get_session().get(ProblemClass, code)
    if pc is None:
        raise NotFound(f"no class {code!r}")
    return render_template("admin/class.html", pc=pc, units=UNITS, urgencies=URGENCIES,
                           unmapped=classes.classes_without_dispatch_rule(get_session()))


@bp.post("/classes/<code>")
def class_change(code: str):
    s = get_session()
    active = {"1": True, "0": False}.get(request.form.get("active", ""))
    try:
        classes.change_class(s, actor(), now(), code, _class_fields(), active)
    except CityCaseError as exc:
        return refused("admin/class.html", exc, pc=s.get(ProblemClass, code), units=UNITS, urgencies=URGENCIES,
                       unmapped=classes.classes_without_dispatch_rule(s))
    flash(_("Class %(code)s saved.", code=code), "success")
    return redirect(url_for("admin.class_page", code=code))


# --- components ---------------------------------------------------------------------------------

COMPONENT_REASONS = {
    "16 digits expected": _l("the id must be 16 digits"),
    "appears twice": _l("the id appears twice"),
    "no such component class": _l("no such component class"),
    "up to 3 existing department codes": _l("give up to 3 existing department codes"),
    "outside every grid cell": _l("the point is outside every grid cell"),
    "not a longitude/latitude": _l("not a longitude/latitude"),
    "a date YYYY-MM-DD": _l("a date YYYY-MM-DD is expected"),
}


def _component_problem(p: components.RowProblem) -> str:
    if p.row == 0:
        return _("The file cannot be used: %(detail)s", detail=p.reason)
    reason = COMPONENT_REASONS.get(p.reason)
    if reason is None and p.reason.startswith("the id's major+minor"):
        reason = _("the id's class digits do not match the class")
    return _("Row %(row)s (%(id)s): %(field)s: %(reason)s", row=p.row, id=p.id or "?", field=p.field,
             reason=reason or p.reason)


def _map() -> dict[str, Any]:
    from web.geo_display import to_display
    from web.report.views import city_map

    cfg = city_map()
    crs = config()["TILE_CRS"]
    points = []
    total, shown = components.components_in(get_session(), limit=2000)
    cfg["total"] = total
    for c in shown:
        lon, lat = to_display(c.lon, c.lat, crs)
        points.append([round(lat, 7), round(lon, 7), f"{c.id} {c.name}"])
    cfg["points"] = points
    return cfg


@bp.get("/components")
def component_list():
    return render_template("admin/components.html", map=_map(), problems=[])


@bp.post("/components")
def component_import():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("admin/components.html", map=_map(),
                               problems=[_("Choose a CSV or GeoJSON file.")]), 400
    data = upload.read(MAX_UPLOAD + 1)
    try:
        if len(data) > MAX_UPLOAD:
            raise components.ComponentImportRefused([components.RowProblem(0, "", "file", "larger than 20 MB")])
        result = components.import_components(get_session(), actor(), now(), data, upload.filename)
    except components.ComponentImportRefused as exc:
        from web.extensions import rollback

        rollback()
        return render_template("admin/components.html", map=_map(),
                               problems=[_component_problem(p) for p in exc.problems]), 400
    flash(_("%(created)s components added, %(replaced)s replaced.", created=result.created,
            replaced=result.replaced), "success")
    return redirect(url_for("admin.component_list"))

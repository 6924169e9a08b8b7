"""/admin/grid: import regions and unit grid cells from GeoJSON (refused with named problems)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from engine.admin import grid
from engine.models import GridCell, Region
from web.admin import bp
from web.admin.common import actor
from web.extensions import get_session, rollback
from web.security import now

MAX_UPLOAD = 50 * 1024 * 1024


def problem_text(p: grid.GridProblem) -> str:
    """One grid problem as a sentence in the user's language, naming the codes."""
    codes = ", ".join(p.codes)
    k = grid.ProblemKind
    if p.kind == k.OVERLAP:
        return _("Cells %(a)s and %(b)s overlap (about %(area)s m²).", a=p.codes[0], b=p.codes[1], area=p.area_m2)
    if p.kind == k.UNCOVERED:
        near = p.near or (0.0, 0.0)
        return _("District %(code)s is not covered by its cells: about %(area)s m² without cells, e.g. near "
                 "longitude %(lon)s, latitude %(lat)s (%(bounds)s).", code=codes, area=p.area_m2, lon=near[0],
                 lat=near[1], bounds=p.detail)
    if p.kind == k.BAD_CODE:
        return _("%(code)s: a code must be 6 (district), 9 (street), 12 (community) or 15 (grid cell) digits.",
                 code=codes)
    if p.kind == k.DUPLICATE_CODE:
        return _("%(code)s appears more than once.", code=codes)
    if p.kind == k.BAD_GEOMETRY:
        return _("%(code)s: the shape is not a valid polygon in longitude/latitude (%(detail)s).", code=codes,
                 detail=p.detail)
    if p.kind == k.NO_PARENT:
        return _("%(code)s: its parent region %(parent)s is neither in the file nor in the database.",
                 code=p.codes[0], parent=p.codes[1])
    if p.kind == k.EMPTY:
        return _("The file holds no regions or cells.")
    return _("The file is not a GeoJSON FeatureCollection (%(detail)s).", detail=p.detail)


def _counts() -> dict[str, int]:
    s = get_session()
    rows = dict(s.execute(select(Region.level, func.count()).group_by(Region.level)).all())
    return {"districts": rows.get("district", 0), "streets": rows.get("street", 0),
            "communities": rows.get("community", 0),
            "cells": s.scalar(select(func.count()).select_from(GridCell)) or 0}


@bp.get("/grid")
def grid_page():
    return render_template("admin/grid.html", counts=_counts(), problems=[])


@bp.post("/grid")
def grid_import():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("admin/grid.html", counts=_counts(), problems=[_("Choose a GeoJSON file.")]), 400
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return render_template("admin/grid.html", counts=_counts(),
                               problems=[_("The file is larger than 50 MB.")]), 400
    try:
        result = grid.import_grid(get_session(), actor(), now(), data)
    except grid.GridImportRefused as exc:
        rollback()
        return render_template("admin/grid.html", counts=_counts(),
                               problems=[problem_text(p) for p in exc.problems]), 400
    flash(_("Imported %(d)s districts, %(s)s streets, %(c)s communities and %(g)s grid cells "
            "(%(r)s replaced).", d=result.districts, s=result.streets, c=result.communities, g=result.cells,
            r=result.replaced), "success")
    return redirect(url_for("admin.grid_page"))

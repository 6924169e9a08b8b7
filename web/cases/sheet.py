"""The printable case sheet (案卷处理单, /cases/<number>/sheet): one A4 page with the case's facts,
a small drawn map (the grid cell and the point, no tiles needed on paper), the photos and the
history in users' words. The browser prints it (print CSS in app.css)."""

from __future__ import annotations

from typing import Any

from engine import definitions
from engine.models import GridCell
from engine.queries import case_history
from web.cases import bp
from web.cases import reference as refdata
from web.cases.attachments import case_photos
from web.cases.display import pick
from web.cases.views import STAFF, history_items, visible_case
from web.extensions import get_session
from web.geo_display import wkt_polygon_display
from web.security import current_actor, now, role_required

SVG_SIZE = (320, 220)
_PAD = 16


def sketch(ring: list[list[float]], point: tuple[float, float]) -> dict[str, Any]:
    """The grid cell ring ([lat, lon] pairs) and the point scaled into an SVG box (north up)."""
    lats = [p[0] for p in ring] + [point[0]]
    lons = [p[1] for p in ring] + [point[1]]
    w, h = SVG_SIZE
    span = max(max(lons) - min(lons), max(lats) - min(lats), 1e-6)
    scale = min((w - 2 * _PAD) / span, (h - 2 * _PAD) / span)

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return round(_PAD + (lon - min(lons)) * scale, 1), round(h - _PAD - (lat - min(lats)) * scale, 1)

    return {"width": w, "height": h, "ring": " ".join(f"{x},{y}" for x, y in (xy(a, b) for a, b in ring)),
            "point": xy(*point)}


@bp.route("/cases/<number>/sheet")
@role_required(*STAFF)
def case_sheet(number: str):
    from flask import render_template

    s = get_session()
    case = visible_case(number).case
    ref = refdata.reference(s)
    grid = s.get(GridCell, case.grid_code)
    ring = wkt_polygon_display(grid.geometry if grid else None, "WGS84")
    dept = ref.departments.get(case.department_code) if case.department_code else None
    photos = case_photos(s, case.id)
    definition = definitions.load(s, case.definition_id)
    return render_template(
        "cases/sheet.html", case=case, printed_at=now(), sketch=sketch(ring, (case.lat, case.lon)),
        class_name=pick(case.class_name, case.class_name_en), major_name=case.major_name,
        district=refdata.region_name(ref, case.district_code), street=refdata.region_name(ref, case.street_code),
        department=pick(dept.name, dept.name_en) if dept else "",
        before=[p for p in photos if p.stage == "report"][:3], after=[p for p in photos if p.stage != "report"][:3],
        history=history_items(case_history(s, current_actor(), case), definition))

"""The case list as an Excel workbook (/cases/export.xlsx): the same search as /cases, every page
up to EXPORT_LIMIT rows, one row per case with its headline facts in the user's language.

openpyxl (already a dependency for the evaluation tables) writes the workbook: hand-writing the
OOXML zip would be the kind of code a kept library does better."""

from __future__ import annotations

from io import BytesIO

from flask import Response
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from engine.queries import CaseRecord, Cursor, search_cases
from web.cases import bp
from web.cases import reference as refdata
from web.cases.display import SOURCE_NAMES, STATUS_NAMES, local_time, named, pick
from web.cases.search import case_filters, query_filters
from web.cases.views import STAFF
from web.extensions import get_session
from web.security import current_actor, now, role_required

EXPORT_LIMIT = 5000
_WIDTHS = (18, 10, 12, 18, 12, 14, 18, 28, 40, 20, 17, 17)


def _headers() -> list[str]:
    return [_("Case"), _("Status"), _("Source"), _("Class"), _("District"), _("Street"), _("Grid"), _("Address"),
            _("Description"), _("Department"), _("Reported"), _("Closed")]


def _row(r: CaseRecord, ref: refdata.Reference) -> list[str]:
    dept = ref.departments.get(r.department_code) if r.department_code else None
    return [r.number, named(STATUS_NAMES, r.status), named(SOURCE_NAMES, r.source),
            pick(r.class_name, r.class_name_en), refdata.region_name(ref, r.district_code),
            refdata.region_name(ref, r.street_code), r.grid_code, r.address, r.description,
            pick(dept.name, dept.name_en) if dept else "", local_time(r.created_at), local_time(r.closed_at)]


@bp.route("/cases/export.xlsx")
@role_required(*STAFF)
def export():
    session, actor, instant = get_session(), current_actor(), now()
    filters = case_filters(query_filters())
    ref = refdata.reference(session)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Cases")[:31]
    sheet.append(_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    after: Cursor | None = None
    written = 0
    while written < EXPORT_LIMIT:
        page = search_cases(session, actor, filters, after, at=instant, limit=min(500, EXPORT_LIMIT - written))
        for record in page.items:
            sheet.append(_row(record, ref))
        written += len(page.items)
        if page.next is None:
            break
        after = page.next
    for i, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    out = BytesIO()
    book.save(out)
    stamp = instant.strftime("%Y%m%d-%H%M")
    response = Response(out.getvalue(),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="cases-{stamp}.xlsx"'
    response.headers["Cache-Control"] = "private, no-store"
    return response

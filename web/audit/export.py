"""The event-log download on the audit pages: the same export as ``citycase export`` for a period and codes.

The file is written to a spooled temporary file (memory up to a few MB, then disk), so a large
month never sits in memory; the download is logged in the access log with its filters and counts.
"""

from __future__ import annotations

import tempfile
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, send_file, url_for
from flask_babel import gettext as _

from engine.audit.access_log import AccessAction
from engine.audit.export import MEDIA_TYPES, ExportFilters, ExportFormat, file_name, parse_date, write_export
from engine.errors import ValidationError
from web.audit import bp
from web.audit.views import _log
from web.extensions import get_session
from web.security import config, now, role_required

_SPOOL_BYTES = 8 * 1024 * 1024


def default_period() -> tuple[str, str]:
    """This month so far, in the city's time zone (the form's defaults)."""
    today = now().astimezone(ZoneInfo(config()["TIMEZONE"])).date()
    return today.replace(day=1).isoformat(), today.isoformat()


def _filters() -> tuple[str, ExportFilters]:
    args = request.args
    filters = ExportFilters(parse_date(args.get("from", ""), "from"), parse_date(args.get("to", ""), "to"),
                            config()["TIMEZONE"], args.get("district") or None, args.get("class") or None,
                            args.get("department") or None)
    return args.get("format", ""), filters


@bp.route("/export")
@role_required("auditor")
def export():
    try:
        fmt, filters = _filters()
        out = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
        summary = write_export(get_session(), fmt, filters, out)
    except ValidationError as exc:
        # Nothing was written; the refused attempt is logged like any other use of the page.
        _log(AccessAction.EXPORT, "", {**dict(request.args), "error": str(exc)})
        flash(_("The event log was not exported: %(msg)s", msg=str(exc)), "error")
        return redirect(url_for("audit.index"))
    fmt = ExportFormat(fmt)
    _log(AccessAction.EXPORT, str(fmt), {**filters.as_dict(), "format": str(fmt), **summary.as_dict()})
    out.seek(0)
    return send_file(out, mimetype=MEDIA_TYPES[fmt], as_attachment=True, download_name=file_name(fmt, filters))

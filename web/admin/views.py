"""/admin (the start page) and /admin/history (the admin history)."""

from __future__ import annotations

from flask import render_template, request

from engine.admin import history
from engine.admin.calendar import next_year_missing
from web.admin import bp
from web.admin.calendar import _today
from web.extensions import get_session


@bp.get("")
def index():
    return render_template("admin/index.html", missing=next_year_missing(get_session(), _today()))


@bp.get("/history")
def history_page():
    target = request.args.get("target", "").strip()[:100]
    try:
        before = int(request.args["before"]) if request.args.get("before") else None
    except ValueError:
        before = None
    rows = history.entries(get_session(), target=target or None, before_seq=before, limit=100)
    return render_template("admin/history.html", rows=rows, target=target,
                           broken=history.check_chain(get_session()) if not before else None)

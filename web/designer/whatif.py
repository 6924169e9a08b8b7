"""What-if page: two versions on the same simulated city, side by side (designers only: it runs
two simulations in throw-away databases, a few seconds each)."""

from __future__ import annotations

from flask import render_template, request

from engine.designer import lifecycle
from engine.designer.whatif import compare
from web.designer import bp
from web.extensions import get_session
from web.security import config, role_required


@bp.route("/whatif", methods=["GET", "POST"])
@role_required("designer")
def whatif():
    s = get_session()
    versions = lifecycle.list_versions(s)
    active = lifecycle.active_id(s)
    a = request.values.get("a", type=int) or active
    b = request.values.get("b", type=int) or next((v.id for v in versions if v.state == "proposed"), active)
    days = min(max(request.values.get("days", 3, type=int), 1), 10)
    per_day = min(max(request.values.get("per_day", 40, type=int), 1), 100)
    seed = request.values.get("seed", 1, type=int)
    result = None
    if request.method == "POST":
        before, after = lifecycle.version_files(s, a), lifecycle.version_files(s, b)
        result = compare(before, after, seed=seed, days=days, cases_per_day=per_day, config=dict(config()))
    departments = sorted(set(result.before.per_department) | set(result.after.per_department)) if result else []
    return render_template("designer/whatif.html", versions=versions, a=a, b=b, days=days, per_day=per_day,
                           seed=seed, result=result, departments=departments)

"""What-if page: two versions side by side, on the simulated city and on the last days of real
reports replayed on a simulated clock (designers only: it runs up to four simulations in
throw-away databases, a few seconds each)."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from engine.designer import lifecycle
from engine.designer.whatif import MAX_REPLAY_DAYS, compare, replay
from web.cases.display import pick
from web.cases.reference import reference
from web.designer import bp
from web.extensions import get_session
from web.security import config, now, role_required


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
    replay_days = min(max(request.values.get("replay_days", 7, type=int), 0), MAX_REPLAY_DAYS)
    result = replayed = None
    if request.method == "POST":
        before, after = lifecycle.version_files(s, a), lifecycle.version_files(s, b)
        result = compare(before, after, seed=seed, days=days, cases_per_day=per_day, config=dict(config()))
        if replay_days:
            replayed = replay(s, before, after, days=replay_days, now=now(), seed=seed, config=dict(config()))
    return render_template("designer/whatif.html", versions=versions, a=a, b=b, days=days, per_day=per_day,
                           seed=seed, result=result, replayed=replayed, replay_days=replay_days,
                           max_replay_days=MAX_REPLAY_DAYS, department_names=_department_names(s))


def _department_names(session) -> dict[str, str]:
    names = {code: pick(d.name, d.name_en) for code, d in reference(session).departments.items()}
    return {**names, "-": _("not dispatched")}

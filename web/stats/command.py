"""/command (指挥大屏): a full-screen dark page for the command centre's wall, refreshed by short
polling of /command/data.json (no reload, no inline script)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template

from engine.evaluation.command import command_view
from engine.queries.visibility import sub_center
from web.assets import echarts_installed, leaflet_installed
from web.extensions import get_session
from web.security import config, current_actor, now, role_required
from web.stats import bp

COMMAND_ROLES = ("leader", "shift_leader", "dispatcher", "auditor", "admin")
POLL_SECONDS = 5


@bp.route("/command")
@role_required(*COMMAND_ROLES)
def command() -> Any:
    settings = {"data": "/command/data.json", "poll": POLL_SECONDS, "tiles": config()["TILE_URL"]}
    return render_template("stats/command.html", settings=settings, leaflet=leaflet_installed(),
                           echarts=echarts_installed())


@bp.route("/command/data.json")
@role_required(*COMMAND_ROLES)
def command_data() -> Any:
    view = command_view(get_session(), now(), config()["TIMEZONE"], sub_center(current_actor()))
    response = jsonify(view.as_dict())
    response.headers["Cache-Control"] = "no-store"
    return response

"""/stats (综合评价: rankings, drill-down, Excel), /stats/hotspots and /command (指挥大屏)."""

from flask import Blueprint

bp = Blueprint("stats", __name__)

from web.stats import command, hotspots, settings, views  # noqa: E402,F401

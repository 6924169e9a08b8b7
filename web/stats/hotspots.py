"""/stats/hotspots: the heat of reports per grid cell (and class), repeat problems, trends per
district or class, and next week's forecast with its measured error and early warnings."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from sqlalchemy import select

from engine.errors import ValidationError
from engine.evaluation.forecast import forecast_view
from engine.evaluation.trends import Bucket, heat, repeats, trend
from engine.models import ProblemClass, Region
from web.assets import echarts_installed, leaflet_installed
from web.extensions import get_session
from web.security import config, current_actor, now, role_required
from web.stats import bp
from web.stats.scope import STATS_ROLES, period_args, requested_period, stats_scope

MAX_WITHIN_DAYS = 90


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} is not a number", {name: "not a number"}) from None
    if not low <= value <= high:
        raise ValidationError(f"{name} must be between {low} and {high}", {name: "out of range"})
    return value


def _choice(name: str, options: tuple[str, ...], default: str) -> str:
    value = request.args.get(name) or default
    if value not in options:
        raise ValidationError(f"{name} must be one of {', '.join(options)}", {name: "invalid"})
    return value


@bp.route("/stats/hotspots")
@role_required(*STATS_ROLES)
def hotspots() -> Any:
    stats_scope(current_actor()).check_city_wide()
    period = requested_period()
    class_code = request.args.get("class") or None
    within = _int_arg("within", 7, 1, MAX_WITHIN_DAYS)
    bucket = Bucket(_choice("bucket", tuple(Bucket), Bucket.DAY))
    by = _choice("by", ("district", "class"), "district")
    s = get_session()
    tz = config()["TIMEZONE"]
    classes = {c.code: c.name for c in s.execute(select(ProblemClass.code, ProblemClass.name)
                                                 .order_by(ProblemClass.code))}
    regions = {r.code: r.name for r in s.execute(select(Region.code, Region.name))}
    cells = heat(s, period, class_code)
    series = trend(s, period, tz, bucket, by)
    forecast = forecast_view(s, now(), tz, config()["WORK_WINDOWS"])
    names = {**regions, **classes}
    data: dict[str, Any] = {
        "heat": [[c.lat, c.lon, c.count, c.grid] for c in cells], "tiles": config()["TILE_URL"],
        "trend": {"labels": series.labels, "series": [{"name": names.get(x.name, x.name), "values": x.values}
                                                      for x in series.series]},
        "forecast": [{"name": names.get(f.name, f.name), "days": f.days, "values": f.values, "low": f.low,
                      "high": f.high} for f in forecast.district],
    }
    return render_template(
        "stats/hotspots.html", period=period, args=period_args(period), cells=cells[:20], classes=classes,
        class_code=class_code, within=within, bucket=bucket, by=by, repeats=repeats(s, period, within),
        forecast=forecast, names=names, data=data, leaflet=leaflet_installed(), echarts=echarts_installed())


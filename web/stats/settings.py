"""/stats/settings (admins): the composite-score weights and grade bands, edited as rows."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from engine.errors import ValidationError
from engine.evaluation import Kind, Rate
from engine.evaluation.labels import KIND_LABELS, RATE_LABELS
from engine.evaluation.scoring import COMPLEMENT, VOLUME, load_settings, set_grade, set_weight
from web.extensions import get_session, rollback
from web.security import role_required
from web.stats import bp


def _number(name: str) -> float:
    try:
        return float(request.form.get(name, ""))
    except ValueError:
        raise ValidationError(f"{name} is not a number", {name: "not a number"}) from None


@bp.route("/stats/settings")
@role_required("admin")
def settings() -> Any:
    terms = [VOLUME, *[r.value for r in Rate], *[COMPLEMENT + r.value for r in Rate]]
    return render_template("stats/settings.html", settings=load_settings(get_session()), kinds=list(Kind),
                           terms=terms, kind_labels=KIND_LABELS, rate_labels=RATE_LABELS)


@bp.route("/stats/settings", methods=["POST"])
@role_required("admin")
def save_settings() -> Any:
    s = get_session()
    try:
        if request.form.get("what") == "grade":
            set_grade(s, request.form.get("grade", "").strip(), _number("min_score"))
        else:
            set_weight(s, request.form.get("kind", ""), request.form.get("term", ""), _number("weight"))
    except ValidationError as exc:
        rollback()
        flash(f"未保存 / Not saved: {exc}", "error")
        return redirect(url_for("stats.settings")), 303
    flash("已保存 / Saved", "ok")
    return redirect(url_for("stats.settings")), 303

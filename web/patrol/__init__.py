"""Supervisors on patrol: the phone's duty page (/patrol/duty), the shift leader's field map with
tracks, attendance and devices (/patrol/map), and the position batch API (/api/v1/patrol/…,
attached to the API blueprint by ``web.patrol.api``)."""

from flask import Blueprint

bp = Blueprint("patrol", __name__, url_prefix="/patrol")

from web.patrol import views  # noqa: E402,F401

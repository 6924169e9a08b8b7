"""Notifications to people (issue 15): /notifications (my notices), /notifications/settings (my
channels and quiet hours) and /admin/notifications (dead letters, for admins). Kept apart from
web/admin/ so the two grow independently."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from web.notifications import views  # noqa: E402,F401

from flask import Blueprint

bp = Blueprint("report", __name__)

from web.report import views  # noqa: E402,F401

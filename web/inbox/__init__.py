from flask import Blueprint

bp = Blueprint("inbox", __name__)

from web.inbox import assign, views  # noqa: E402,F401

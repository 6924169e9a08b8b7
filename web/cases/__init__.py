from flask import Blueprint

bp = Blueprint("cases", __name__)

from web.cases import search, views  # noqa: E402,F401

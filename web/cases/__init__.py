from flask import Blueprint

bp = Blueprint("cases", __name__)

from web.cases import export, search, sheet, views  # noqa: E402,F401

from flask import Blueprint

bp = Blueprint("cases", __name__)

from web.cases import export, followup, search, sheet, views  # noqa: E402,F401

"""/admin: the administration pages (admin role only): users, departments, grid, classes,
components, the working calendar and the admin history. The engine side is ``engine.admin``."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from web.admin import calendar, catalog, geography, people, views  # noqa: E402,F401

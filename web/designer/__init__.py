"""Process designer pages: versions, the bpmn.io editors, four-eyes approval, diff, migration."""

from flask import Blueprint

bp = Blueprint("designer", __name__, url_prefix="/designer")

from web.designer import editor, views, whatif  # noqa: E402,F401

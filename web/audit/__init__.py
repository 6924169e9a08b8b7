"""Audit pages: case replay on the diagram, verify, case search and the auditors' access log."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from web.audit import export, views  # noqa: E402,F401

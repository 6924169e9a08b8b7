"""Sign-in, sign-out, language switch and the home redirect."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from web.auth import sso, views  # noqa: E402,F401

"""The session cookie's Secure flag from ``SECURE_COOKIES`` (engine.config): true, false, or auto —
Secure whenever the request came over HTTPS (behind a proxy: run it with ProxyFix/X-Forwarded-Proto
so that Flask sees the scheme)."""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface


class _SessionInterface(SecureCookieSessionInterface):
    def save_session(self, app: Flask, session, response) -> None:
        super().save_session(app, session, response)
        if getattr(response, "citycase_keep_for_back", False):  # a refused form kept for Back (web.app)
            response.vary.discard("Cookie")

    def get_cookie_secure(self, app: Flask) -> bool:
        mode = str(app.config.get("SECURE_COOKIES", "auto")).strip().lower()
        if mode in ("1", "true", "yes", "on"):
            return True
        if mode in ("0", "false", "no", "off"):
            return False
        return bool(request) and request.is_secure


def install_session_cookie(app: Flask) -> None:
    mode = str(app.config.get("SECURE_COOKIES", "auto")).strip().lower()
    if mode not in ("auto", "1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"SECURE_COOKIES must be auto, true or false, not {mode!r}")
    app.session_interface = _SessionInterface()

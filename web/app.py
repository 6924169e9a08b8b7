"""The Flask application factory."""

from __future__ import annotations

import os
import secrets
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from engine.clock import SystemClock
from engine.config import PROJECT_ROOT, load_config
from engine.db import lost_only_the_lock, make_engine, session_factory
from engine.errors import CityCaseError
from web.auth.session_cookie import install_session_cookie
from web.extensions import (
    CityCaseState,
    babel,
    csrf,
    init_session_handling,
    install_lock_retry,
    limiter,
    login_manager,
)
from web.input_guard import init_input_guard
from web.messages import error_message
from web.responses import error_response
from web.security import is_api_request

LOCALES = ("zh_Hans_CN", "en")
_scheduler_lock = threading.Lock()
_scheduler_started = False


def create_app(config: dict[str, Any] | None = None) -> Flask:
    cfg = load_config(config)
    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"))
    app.config.update(cfg)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=int(cfg["SESSION_MINUTES"]))
    app.config.setdefault("SESSION_REFRESH_EACH_REQUEST", True)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    if not app.config.get("SESSION_COOKIE_SAMESITE"):  # Flask's default is None, so setdefault never set it
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["MAX_CONTENT_LENGTH"] = int(cfg["UPLOAD_MAX_BYTES"]) * 4 + 1024 * 1024
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the session lifetime bounds the token
    app.config.setdefault("BABEL_DEFAULT_LOCALE", cfg["DEFAULT_LOCALE"])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", cfg["TIMEZONE"])
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")

    engine = make_engine(cfg["DATABASE_URL"])
    clock = cfg.get("CLOCK") or SystemClock()
    app.extensions["citycase"] = CityCaseState(app.config, engine, session_factory(engine), clock)

    _ensure_translations()
    init_session_handling(app)
    install_session_cookie(app)
    init_input_guard(app)  # before CSRF and the rate limiter look at the request
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.unauthorized_handler(_unauthorized)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: cfg["TIMEZONE"])

    from web.admin import bp as admin_pages_bp
    from web.api import admin_bp, api_bp, open311_bp
    from web.audit import bp as audit_bp
    from web.auth import bp as auth_bp
    from web.cases import bp as cases_bp
    from web.cases.display import register_filters
    from web.cases.privacy import register_privacy_filter
    from web.designer import bp as designer_bp
    from web.devices import bp as devices_bp
    from web.inbox import bp as inbox_bp
    from web.notifications import bp as notifications_bp
    from web.patrol import bp as patrol_bp
    from web.report import bp as report_bp
    from web.stats import bp as stats_bp

    register_filters(app)
    register_privacy_filter(app)
    for bp in (auth_bp, inbox_bp, cases_bp, report_bp, admin_bp, stats_bp, audit_bp, designer_bp, admin_pages_bp):
        app.register_blueprint(bp)
    app.register_blueprint(notifications_bp)
    for bp in (patrol_bp, devices_bp):  # issue 16: supervisors on patrol, device admin
        app.register_blueprint(bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(open311_bp, url_prefix="/open311/v2")
    from web import ops
    from web.auth import sso

    ops.register(app)
    sso.init_app(app)
    if cfg["LOG_FORMAT"] == "json":  # text keeps Flask's and gunicorn's own log setup
        from engine.logs import configure_logging

        configure_logging(cfg["LOG_FORMAT"])

    install_lock_retry(app)
    _register_errors(app)
    _security_headers(app)
    _maybe_start_scheduler(app)
    return app


# --- pieces -----------------------------------------------------------------------------------

def _instance_secret(instance: Path) -> str:
    """A random key kept in instance/secret_key, created once (safe against concurrent starts)."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        tmp = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic: the first writer wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def _ensure_translations() -> None:
    from web.assets import compile_translations

    try:
        compile_translations(only_missing=True, quiet=True)
    except OSError as exc:  # e.g. a read-only install: run `python -m web.assets` at build time
        import logging

        logging.getLogger(__name__).warning("could not compile translations: %s", exc)


def _select_locale() -> str:
    lang = session.get("lang")
    if lang in LOCALES:
        return lang
    from flask import current_app

    return current_app.config["DEFAULT_LOCALE"]


def _unauthorized():
    from flask import redirect, url_for

    if is_api_request():
        return _error_page(401, _("Please sign in"), _("Sign in first (POST /api/v1/login) or send an API key."))
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def _error_page(status: int, title: str, message: str, fields: dict[str, str] | None = None):
    return error_response(status, title, message, fields)


def _register_errors(app: Flask) -> None:
    titles = {
        400: lambda: _("Bad request"), 401: lambda: _("Please sign in"), 403: lambda: _("Not allowed"),
        404: lambda: _("Not found"), 405: lambda: _("Method not allowed"), 409: lambda: _("Conflict"),
        413: lambda: _("Too large"), 429: lambda: _("Too many requests"), 500: lambda: _("Server error"),
        503: lambda: _("Busy"),
    }

    def title_for(status: int) -> str:
        return titles.get(status, titles[400])()

    @app.errorhandler(CityCaseError)
    def _engine_error(exc: CityCaseError):
        status = getattr(exc, "http_status", 400)
        if is_api_request():
            return _error_page(status, title_for(status), str(exc), getattr(exc, "fields", None))
        message = error_message(exc)
        return render_template("error.html", status=status, title=title_for(status), message=message), status

    @app.errorhandler(OperationalError)
    def _database_busy(exc: OperationalError):
        # Only after every attempt of web.extensions' lock retry waited out the busy timeout:
        # the server is overloaded, not the request wrong. Nothing was written; say so (503).
        if not lost_only_the_lock(exc):
            raise exc
        from web.extensions import rollback

        rollback()
        response = _error_page(503, title_for(503), _("The database is busy; nothing was saved. "
                                                      "Please try again in a moment."))
        response = app.make_response(response)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        return _error_page(400, title_for(400),
                           _("The form expired or was not sent from this site. Go back, reload and try again."))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        if status == 401 and not is_api_request():
            return _unauthorized()
        message = exc.description or ""
        if status >= 500:
            app.logger.error("server error on %s: %r", request.path, getattr(exc, "original_exception", exc))
            message = _("Something went wrong on our side. Please try again.")
        elif status == 404:
            message = _("The page or record does not exist.")
        elif status == 429:
            message = _("Too many requests from your address. Please wait and try again later.")
        elif status == 413:
            message = _("The upload is too large.")
        response = app.make_response(_error_page(status, title_for(status), message))
        for name, value in exc.get_headers():  # e.g. Allow on a 405 (RFC 9110), Retry-After
            if name.lower() != "content-type":
                response.headers[name] = value
        return response


def _tile_source(tile_url: str) -> str | None:
    """The CSP source of a tile URL template: scheme + host, with a {s} subdomain as a wildcard."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.replace("{s}", "SUBDOMAIN"))
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc
    if "SUBDOMAIN" in host:
        labels = host.split(".")
        host = ".".join(["*"] + [label for label in labels[1:]])
    return f"{parts.scheme}://{host}"


def _security_headers(app: Flask) -> None:
    tiles = _tile_source(app.config.get("TILE_URL", ""))
    img = "'self' data: blob:" + (f" {tiles}" if tiles else "")
    csp = ("default-src 'self'; "
           f"img-src {img}; "
           "script-src 'self'; style-src 'self'; "
           "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
           "form-action 'self'; frame-ancestors 'none'")

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.path.startswith("/follow/"):
            response.headers["Referrer-Policy"] = "no-referrer"  # the follow-up token is in the URL
        if (request.method == "POST" and response.status_code in (400, 409) and not is_api_request()
                and "Cache-Control" not in response.headers):
            # A refused form, kept privately for a few minutes: Back from the next page shows it
            # again instead of the browser's cache-miss page (a POST answer is not cached without).
            response.headers["Cache-Control"] = "private, max-age=600"
            # Not "Vary: Cookie" (web.auth.session_cookie drops it): the session cookie is re-signed
            # with the time on every request, so a second later it never matches again and Back
            # would miss the entry after all.
            response.citycase_keep_for_back = True
        return response


def _maybe_start_scheduler(app: Flask) -> None:
    global _scheduler_started
    if not app.config.get("SCHEDULER_ENABLED") or app.config.get("TESTING"):
        return
    from engine.scheduler import start_background

    with _scheduler_lock:
        if _scheduler_started:
            return
        _scheduler_started = True
    start_background(dict(app.config))

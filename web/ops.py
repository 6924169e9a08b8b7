"""Operating endpoints: /healthz, /readyz and /metrics, and each request's log context.

/healthz answers while the process serves requests; /readyz only when the database answers
and is migrated to head (a load balancer sends traffic only then). /metrics is for Prometheus:
it answers a request with ``Authorization: Bearer <METRICS_TOKEN>``, or from the machine
itself (loopback), and nobody else — the counts describe the city's workload.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import uuid

from flask import Blueprint, Flask, Response, g, jsonify, request
from flask_login import current_user

from engine import logs
from engine.health import readiness
from engine.metrics import CONTENT_TYPE, render
from web.extensions import csrf, limiter, state

bp = Blueprint("ops", __name__)
access_log = logging.getLogger("citycase.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@bp.get("/healthz")
def healthz():
    return jsonify(ok=True)


@bp.get("/readyz")
def readyz():
    result = readiness(state().engine)
    return jsonify(result.as_dict()), 200 if result.ok else 503


@bp.get("/metrics")
def metrics():
    if not _metrics_allowed():
        return Response("metrics: send Authorization: Bearer <CITYCASE_METRICS_TOKEN>, or scrape from loopback\n",
                        status=403, mimetype="text/plain")
    st = state()
    return Response(render(st.factory, st.clock), content_type=CONTENT_TYPE)


def _metrics_allowed() -> bool:
    token = state().config.get("METRICS_TOKEN") or ""
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def init_request_logging(app: Flask) -> None:
    """Each request's id (the client's X-Request-ID when sane, else a new one), user and case on its log lines."""

    @app.before_request
    def _log_context():
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex
        logs.REQUEST_ID.set(g.request_id)
        logs.USER.set(current_user.username if current_user.is_authenticated else None)
        logs.CASE_NUMBER.set((request.view_args or {}).get("number"))

    json_lines = app.config.get("LOG_FORMAT") == "json"

    @app.after_request
    def _echo_id(response):
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        if json_lines:  # a collector gets each request as a JSON line with its context (text: gunicorn's access log)
            access_log.info("%s %s %s", request.method, request.path, response.status_code,
                            extra={"method": request.method, "path": request.path, "status": response.status_code})
        return response

    @app.teardown_request
    def _clear(_exc):
        for var in (logs.REQUEST_ID, logs.USER, logs.CASE_NUMBER):
            var.set(None)


def register(app: Flask) -> None:
    csrf.exempt(bp)
    limiter.exempt(bp)
    app.register_blueprint(bp)
    init_request_logging(app)

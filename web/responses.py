"""The one error response of each surface: JSON API, Open311 (GeoReport's list) and pages."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request


def error_response(status: int, title: str, message: str, fields: dict[str, Any] | None = None):
    """``{"error", "fields"}`` under /api/ (openapi.yaml: Error), GeoReport's error list under
    /open311/, the error page elsewhere."""
    if request.path.startswith("/api/"):
        body = {"error": message or title, "fields": {str(k): str(v) for k, v in (fields or {}).items()}}
        return jsonify(body), status
    if request.path.startswith("/open311/"):
        from web.api.open311 import render_error

        fmt = (request.view_args or {}).get("fmt") or ("json" if request.path.endswith(".json") else "xml")
        return render_error(fmt if fmt in ("json", "xml") else "xml", status, message or title)
    if fields:
        message = message + " (" + ", ".join(str(k) for k in fields) + ")"
    return render_template("error.html", status=status, title=title, message=message), status

"""Authentication and error helpers shared by the JSON API and Open311.

The JSON API (/api/v1) authenticates staff by the signed-in session cookie (the same session the
pages use, started by the login page or by ``POST /api/v1/login``). Because the blueprint is exempt
from CSRF tokens, every request with a body must be ``application/json``: browsers cannot send that
content type cross-site without a CORS preflight, which this app never grants, so a foreign page
cannot drive the API with a visitor's cookie.

Open311 (/open311/v2) is public for reading; creating a request needs an API key (``api_key`` form
field) issued with ``citycase apikey create``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import request

from engine.errors import CityCaseError, Forbidden, ValidationError
from engine.model import Actor
from web.security import optional_actor


class ApiError(CityCaseError):
    """An API-level error with its own HTTP status (401, 415, …) besides the engine's."""

    def __init__(self, message: str, status: int = 400, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.http_status = status
        self.fields = fields or {}


def api_actor(roles: Iterable[str] | None = None) -> Actor:
    """The signed-in actor; 401 when nobody is signed in, 403 when the role is not one of ``roles``."""
    actor = optional_actor()
    if actor is None:
        raise ApiError("sign in first: POST /api/v1/login or the login page", 401)
    allowed = tuple(roles or ())
    if allowed and actor.role not in allowed:
        raise Forbidden(f"this action is for {', '.join(allowed)}; you are {actor.role}")
    return actor


def json_body(required: bool = True) -> dict[str, Any]:
    """The request's JSON object. Requests with a body must say ``Content-Type: application/json``."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and not request.is_json:
        # Also for empty bodies: this is the API's CSRF defence (see the module docstring).
        raise ApiError("send Content-Type: application/json", 415)
    if not request.get_data(cache=True):
        if required:
            raise ValidationError("a JSON object is required as the request body")
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("the request body must be a JSON object")
    return data


def error_payload(exc: CityCaseError) -> tuple[dict[str, Any], int]:
    status = int(getattr(exc, "http_status", 400) or 400)
    fields = getattr(exc, "fields", None) or {}
    return {"error": str(exc), "fields": {str(k): str(v) for k, v in fields.items()}}, status


def open311_key(session) -> Any:
    """The active API key given as ``api_key`` (form field or query), else None."""
    from engine.apikeys import verify_key

    plaintext = request.form.get("api_key") or request.args.get("api_key")
    return verify_key(session, plaintext)


__all__ = ["ApiError", "api_actor", "json_body", "error_payload", "open311_key"]

"""``POST /api/v1/intake/observations``: devices (cameras, drones, sensors) send observations.

A device authenticates with its own key in the ``X-Device-Key`` header and names itself in the
body's ``device_id`` (keys are issued by ``citycase devices add``). The body is JSON (the API's
CSRF rule, see ``web.api.auth``). Refusals use the API's error body ``{"error", "fields"}``:
401 for an unknown device or a wrong or revoked key (which one is not told), 400 for a bad
observation, 415 without a JSON content type; nothing is written on any of them.
"""

from __future__ import annotations

from flask import jsonify, request

from engine.devices.receive import DeviceRefused, receive
from web.api.auth import ApiError, json_body
from web.api.json_api import api_bp
from web.extensions import get_session
from web.input_guard import JSON_MAX_BYTES_BY_ENDPOINT
from web.security import engine_context

MAX_BODY_BYTES = JSON_MAX_BYTES_BY_ENDPOINT["api.intake_observation"]  # a 1 MiB photo in base64 and the rest


@api_bp.post("/intake/observations")
def intake_observation():
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise ApiError("the observation is too large", 413, {"photo": "too large"})
    data = json_body()
    try:
        result = receive(get_session(), engine_context(), request.headers.get("X-Device-Key"), data)
    except DeviceRefused as exc:
        raise ApiError(str(exc), 401, {"X-Device-Key": "unknown device or wrong key"}) from None
    return jsonify({"device_id": result.device_id, "state": result.state.value, "outcome": result.outcome.value,
                    "case_id": result.case_id, "case_number": result.case_number}), 200

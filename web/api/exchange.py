"""``POST /api/v1/exchange/12345/orders``: the 12345 hotline platform sends a work order (docs/exchange.md).

The platform signs each request with the secret agreed with the city (``EXCHANGE_HOTLINE_SECRET``;
HMAC-SHA256 over timestamp and body, engine.exchange.signing); an unsigned, stale or wrongly signed
request is 401 and writes nothing. The answer names the case: 201 when this request filed it, 200
when the order was already a case (the platform may send again until it hears back).
"""

from __future__ import annotations

import orjson
from flask import jsonify, request

from engine import signed_post as signing
from engine.exchange.hotline import receive_order
from web.api.auth import ApiError
from web.api.json_api import api_bp
from web.extensions import get_session, state
from web.security import engine_context, now


@api_bp.post("/exchange/12345/orders")
def hotline_order():
    secret = str(state().config.get("EXCHANGE_HOTLINE_SECRET") or "")
    if not secret:
        raise ApiError("the exchange with the 12345 platform is not configured here", 404)
    if not request.mimetype == "application/json":
        raise ApiError("send the work order as application/json", 415)
    body = request.get_data(cache=True)
    problem = signing.check(secret, request.headers.get(signing.TIMESTAMP_HEADER),
                            request.headers.get(signing.SIGNATURE_HEADER), body, now())
    if problem:
        raise ApiError(problem, 401, {signing.SIGNATURE_HEADER: "invalid"})
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError("the body is not valid JSON", 400, {"body": "invalid JSON"}) from None
    received = receive_order(get_session(), engine_context(), data)
    return jsonify({"order_no": received.order_no, "case_number": received.case_number,
                    "created": received.created}), 201 if received.created else 200

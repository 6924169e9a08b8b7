"""``POST /api/v1/patrol/positions``: a batch of the signed-in supervisor's positions (the phone
page sends what it collected, also what it kept offline). JSON only (the API's CSRF rule); a bad
batch is a 400 naming the field and writes nothing; a batch sent twice stores nothing new."""

from __future__ import annotations

from flask import jsonify

from engine.model import Role
from engine.patrol.positions import record_batch
from web.api.auth import api_actor, json_body
from web.api.json_api import api_bp
from web.extensions import get_session
from web.security import now


@api_bp.post("/patrol/positions")
def patrol_positions():
    actor = api_actor((Role.SUPERVISOR,))
    result = record_batch(get_session(), actor.username, json_body(), now())
    return jsonify({"received": result.received, "stored": result.stored, "duplicates": result.duplicates,
                    "outside_duty": result.outside_duty}), 200

"""Citizens' phone and ID-card numbers, masked for staff whose role does not need them.

Which roles see them in full is configuration (``STAFF_PHONE_ROLES``: by default the centre's
acceptors, shift leaders and dispatchers, who call citizens back). Everyone else sees
``138****5678``: enough to tell two reporters apart, not enough to call them.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app

from web.security import optional_actor

_NUMBERS = re.compile(
    r"(?<![0-9])(?:[1-9][0-9]{16}[0-9Xx]|[1-9][0-9]{14}|1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})(?![0-9])")


def _mask(match: re.Match[str]) -> str:
    text = match.group()
    keep_head, keep_tail = (3, 4) if len(text) <= 13 else (6, 4)
    return text[:keep_head] + "*" * (len(text) - keep_head - keep_tail) + text[-keep_tail:]


def mask_numbers(text: str | None) -> str | None:
    return _NUMBERS.sub(_mask, text) if text else text


def sees_phone_numbers() -> bool:
    actor = optional_actor()
    allowed = {r.strip() for r in str(current_app.config.get("STAFF_PHONE_ROLES", "")).split(",") if r.strip()}
    return actor is not None and actor.role in allowed


def citizen_private(text: str | None) -> str | None:
    """``text`` as the signed-in user may see it."""
    return text if sees_phone_numbers() else mask_numbers(text)


def citizen_private_deep(value: Any) -> Any:
    """``value`` (nested JSON data: workflow data, event data) with every string as the user may see it."""
    if sees_phone_numbers():
        return value
    return _mask_deep(value)


def _mask_deep(value: Any) -> Any:
    if isinstance(value, str):
        return mask_numbers(value)
    if isinstance(value, dict):
        return {k: _mask_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_deep(v) for v in value]
    return value


def register_privacy_filter(app: Flask) -> None:
    app.add_template_filter(citizen_private, "citizen_private")

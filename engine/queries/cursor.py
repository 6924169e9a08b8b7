"""The one keyset cursor format: where a page ended, as an opaque URL-safe token.

A listing sorted by (an instant, an id) continues after the last row's pair instead of skipping
an offset, so a page costs the same however deep it is. The token is base64url of the JSON pair
``[ISO instant or null, id]``: opaque to clients (pages put it in ``after=``, the JSON API returns
it as ``next``), yet readable when debugging.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

import orjson

from engine.errors import ValidationError

MAX_CURSOR_CHARS = 200


@dataclass(frozen=True)
class Cursor:
    """The sort key of the last row of a page: ``at`` (None sorts last) and the row id."""

    at: datetime | None
    id: str | int

    def encode(self) -> str:
        raw = orjson.dumps([self.at.isoformat() if self.at is not None else None, self.id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    """Parse ``Cursor.encode``'s token; ValidationError (field ``after``) for anything else."""
    try:
        if len(text) > MAX_CURSOR_CHARS:
            raise ValueError
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        at_text, row_id = orjson.loads(raw)
        if isinstance(row_id, bool) or not isinstance(row_id, str | int) or row_id == "":
            raise ValueError
        if at_text is not None and not isinstance(at_text, str):
            raise ValueError
        at = datetime.fromisoformat(at_text) if at_text is not None else None
        if at is not None and at.tzinfo is None:
            raise ValueError
        return Cursor(at, row_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ValidationError("after is not a cursor from a previous page", {"after": "invalid cursor"}) from None


def parse_cursor(text: str | None) -> Cursor | None:
    """Like ``decode_cursor`` but None for a missing or malformed token (pages show the first page)."""
    if not text:
        return None
    try:
        return decode_cursor(text)
    except ValidationError:
        return None


__all__ = ["Cursor", "decode_cursor", "parse_cursor"]

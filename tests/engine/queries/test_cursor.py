"""The one keyset cursor format."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.errors import ValidationError
from engine.queries import Cursor, decode_cursor, parse_cursor


@pytest.mark.parametrize("cursor", [
    Cursor(datetime(2026, 11, 25, 1, 2, 3, 456789, tzinfo=UTC), "5f0c7c3e-0000-4000-8000-000000000001"),
    Cursor(None, "5f0c7c3e-0000-4000-8000-000000000001"),
    Cursor(datetime(2026, 1, 1, tzinfo=UTC), 12345),
])
def test_round_trip(cursor):
    token = cursor.encode()
    assert token.isascii() and "=" not in token and "/" not in token and "+" not in token
    assert decode_cursor(token) == cursor
    assert parse_cursor(token) == cursor


@pytest.mark.parametrize("junk", ["x", "~", "nonsense", "2026~" + "a" * 40, "20261125T010000.000000Z",
                                  Cursor(None, "").encode(), "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgImEiXQ",
                                  "W251bGwsIHRydWVd", "A" * 500])
def test_garbage_is_a_validation_error_or_the_first_page(junk):
    with pytest.raises(ValidationError) as info:
        decode_cursor(junk)
    assert info.value.fields == {"after": "invalid cursor"}
    assert parse_cursor(junk) is None
    assert parse_cursor("") is None and parse_cursor(None) is None


"""Fixtures shared by the web tests."""

from __future__ import annotations

import pytest

from tests.web.apikit import make_app


@pytest.fixture
def app(city, clock):
    """The app on the seeded city (SQLite and PostgreSQL), CSRF off; modules may define their own."""
    app = make_app(city, clock)
    yield app
    app.extensions["citycase"].engine.dispose()

"""Shared helpers of the admin command tests."""

from __future__ import annotations

import pytest

from engine.model import Actor, Role


@pytest.fixture
def admin() -> Actor:
    return Actor("admin1", Role.ADMIN)

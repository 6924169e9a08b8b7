"""Calendar databases: one seeded for YEAR and YEAR + 1 per module, and a fresh one per test."""

from __future__ import annotations

import pytest

from engine.calendar import (
    WorkCalendar,
    load_calendar,
    seed_calendar,
)
from engine.db import transaction
from tests.engine.calendar.kit import TZ, WINDOWS, YEAR, make_db


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A migrated database seeded for YEAR and YEAR + 1 (the latter beyond chinese_calendar's range)."""
    url, factory = make_db(tmp_path_factory.mktemp("calendar") / "seeded.db")
    with transaction(factory) as session:
        seed_calendar(session, [YEAR, YEAR + 1], WINDOWS, TZ)
    return url, factory


@pytest.fixture(scope="module")
def cal(seeded) -> WorkCalendar:
    _url, factory = seeded
    with factory() as session:
        return load_calendar(session, TZ, WINDOWS)


@pytest.fixture()
def fresh(tmp_path):
    return make_db(tmp_path / "fresh.db")

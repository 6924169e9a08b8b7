"""``citycase demo-cases`` on the system clock: two months of cases ending now, with green,
yellow and red handling tasks at whatever moment the test runs (see
tests/engine/demo/test_demo_lights.py for fixed starts on weekends and at night)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from cli import cli
from engine.model import Light
from engine.models import Case
from tests.engine.demo.test_demo_lights import open_lights


def test_demo_cases_show_every_light_now(sqlite_city):
    result = CliRunner().invoke(cli, ["--database-url", sqlite_city.url, "demo-cases", "--count", "90", "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cases"] > 40
    at = datetime.now(UTC)
    with sqlite_city.session() as s:
        handling = open_lights(s, at, "handle")
        first = s.scalar(select(Case.created_at).order_by(Case.created_at).limit(1))
    assert at - first.replace(tzinfo=UTC) > timedelta(days=55)  # the last two months
    total = sum(handling.values())
    for lamp in Light:
        assert handling[lamp] >= 0.15 * total and handling[lamp] >= 3, (lamp, handling)

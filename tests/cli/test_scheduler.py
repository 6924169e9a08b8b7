"""``citycase scheduler --once``: one tick from the command line, its counts as JSON or a line of text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import func, select

from cli import cli
from engine.clock import ManualClock
from engine.model import EngineContext
from engine.models import Checkpoint, EvaluationSnapshot
from tests.engine.test_scheduler import NOTHING, escalations, walk_to_handle


def test_cli_once_prints_the_counts(sqlite_city, tmp_path, monkeypatch):
    db = sqlite_city
    # Deadlines in March 2025 are in the past for the CLI's SystemClock.
    past = ManualClock(datetime(2025, 3, 5, 1, 0, tzinfo=UTC))
    driver = walk_to_handle(db, EngineContext(past))
    monkeypatch.setenv("CITYCASE_INSTANCE_DIR", str(tmp_path))  # the checkpoint signing key goes here
    runner = CliRunner()
    result = runner.invoke(cli, ["--database-url", db.url, "scheduler", "--once", "--json"])
    assert result.exit_code == 0, result.output
    # the tick also signs the first checkpoint of the event log and, once this month's first
    # working day has come (always by the 9th, even after the October holidays), freezes last month
    counts = json.loads(result.stdout)
    frozen = [_last_month()] if counts["snapshots"] else []
    assert counts == {**NOTHING, "fired": 1, "delivered": 2, "checkpoints": 1, "snapshots": len(frozen),
                      "silent": 0}
    if datetime.now(ZoneInfo("Asia/Shanghai")).day >= 9:
        assert frozen
    assert len(escalations(db, driver.case_id)) == 1

    result = runner.invoke(cli, ["--database-url", db.url, "scheduler", "--once"])
    assert result.exit_code == 0, result.output
    # nothing left to do: no second checkpoint or snapshot of the same month
    assert result.stdout.strip() == "fired 0 case(s), skipped 0; outbox: delivered 0, failed 0"
    with db.factory() as s:
        assert s.scalars(select(EvaluationSnapshot.month)).all() == frozen
        assert s.scalar(select(func.count()).select_from(Checkpoint)) == 1


def _last_month() -> str:
    first = datetime.now(ZoneInfo("Asia/Shanghai")).date().replace(day=1)
    return f"{first - timedelta(days=1):%Y-%m}"


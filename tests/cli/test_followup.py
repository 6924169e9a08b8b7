"""``citycase merge`` and ``citycase reopen`` on the real clock: exit 0 and the case changed, or
exit 1 with the reason and nothing changed; ``citycase verify`` passes after both."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from cli import cli
from engine.model import EngineContext
from engine.models import Case
from tests.factories import CaseDriver

DEPT = "sanitation@330191"


def run(url, *args, code=0):
    result = CliRunner().invoke(cli, ["--database-url", url, *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _status(db, case_id: int) -> str:
    with db.session() as s:
        return s.get(Case, case_id).status


@pytest.fixture
def walked(city, clock):
    clock.set(datetime.now(UTC))  # closed just now by the system clock's reckoning
    ctx = EngineContext(clock)
    original, duplicate, closed = CaseDriver(city, ctx), CaseDriver(city, ctx), CaseDriver(city, ctx)
    original.start()
    duplicate.start()
    closed.start(source="supervisor")
    for spec, data in (("accept", {"decision": "file"}), ("file", {"decision": "file"}),
                       ("dispatch", {"department": DEPT}), ("handle", {"outcome": "done", "result": "已清理"}),
                       ("check", {"verdict": "passed"}), ("close", {})):
        closed.do(spec, data)
    return original, duplicate, closed


def test_merge_and_reopen_from_the_command_line(city, walked):
    original, duplicate, closed = walked
    n_original, n_duplicate, n_closed = (d.case().number for d in walked)
    refused = run(city.url, "merge", n_duplicate, n_duplicate, "--user", "acceptor1", "--reason", "同一处", code=1)
    assert "itself" in refused.output and _status(city, duplicate.case_id) == "open"
    run(city.url, "merge", n_duplicate, n_closed, "--user", "acceptor1", "--reason", "同一处", code=1)  # closed
    out = json.loads(run(city.url, "merge", n_duplicate, n_original, "--user", "acceptor1", "--reason", "同一处",
                         "--json").stdout)
    assert out["status"] == "merged" and _status(city, duplicate.case_id) == "merged"

    run(city.url, "reopen", n_original, "--user", "shiftleader1", "--reason", "未解决", code=1)  # still open
    run(city.url, "reopen", n_closed, "--user", "dispatcher1", "--reason", "未解决", code=1)  # not the center
    out = json.loads(run(city.url, "reopen", n_closed, "--user", "shiftleader1", "--reason", "市民来电称未解决",
                         "--json").stdout)
    assert out["status"] == "open" and closed.tasks() == ["dispatch"]
    assert json.loads(run(city.url, "verify", "--json").stdout)["problems"] == []

"""``citycase seed demo|classes`` end to end: JSON summary, refusal to seed twice, --if-empty."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli import cli
from engine.db import session_factory
from engine.geo import get_locator
from engine.models import Component, ProblemClass
from engine.reference import read_classes
from tests.engine.demo.test_seed import _count, _fresh


def _run(args):
    return CliRunner().invoke(cli, args)


def test_cli_seed_demo_json(tmp_path):
    url, engine = _fresh(tmp_path / "cli.db")
    result = _run(["--database-url", url, "seed", "demo", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["city"] == "演示市"
    assert len(summary["bbox"]) == 4 and len(summary["center"]) == 2
    assert summary["grid_cells"] >= 1000
    factory = session_factory(engine)
    with factory() as s:
        assert get_locator(s).locate(*summary["center"]).grid_code == summary["center_grid_code"]
        assert _count(s, ProblemClass) == len(read_classes())
    # a second run fails with exit code 1 and writes nothing; --if-empty skips
    again = _run(["--database-url", url, "seed", "demo", "--json"])
    assert again.exit_code == 1
    assert "already holds a city" in again.stderr
    skipped = _run(["--database-url", url, "seed", "demo", "--if-empty", "--json"])
    assert skipped.exit_code == 0 and json.loads(skipped.stdout)["skipped"] is True
    with factory() as s:
        assert _count(s, Component) == summary["components"]
    engine.dispose()


def test_cli_seed_classes(tmp_path):
    url, engine = _fresh(tmp_path / "classes.db")
    result = _run(["--database-url", url, "--json", "seed", "classes"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"classes": len(read_classes())}
    engine.dispose()


def test_cli_seed_accounts_lists_every_account(tmp_path):
    """The demo prints every account: the 西园区 supervisor and the drainage handler need no guessing."""
    from sqlalchemy import select

    from engine.models import User

    url, engine = _fresh(tmp_path / "accounts.db")
    assert _run(["--database-url", url, "seed", "demo"]).exit_code == 0
    result = _run(["--database-url", url, "seed", "accounts"])
    assert result.exit_code == 0, result.output
    with session_factory(engine)() as s:
        users = s.execute(select(User.username, User.display_name).where(User.active.is_(True))).all()
    for username, name in users:
        assert username in result.stdout and name in result.stdout
    assert "监督员 (supervisor):" in result.stdout and "demo1234" in result.stdout
    listed = json.loads(_run(["--database-url", url, "--json", "seed", "accounts"]).stdout)["accounts"]
    assert len(listed) == len(users)
    engine.dispose()

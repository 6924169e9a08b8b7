"""Uploads no command referred to are collected after the grace period; bound ones never are."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from cli import cli
from engine.commands import start_case
from engine.model import Actor, EngineContext
from engine.models import Attachment
from engine.uploads import collect_orphans
from tests.factories import report


def _upload(session, token: str, at, by: str = "supervisor1") -> None:
    session.add(Attachment(case_id=None, token=token, stage="report", content_type="image/jpeg", size=3,
                           sha256="0" * 64, content=b"abc", uploaded_by=by, uploaded_at=at))
    session.flush()


def test_unbound_uploads_older_than_the_grace_period_are_collected(city, clock):
    with city.session() as s:
        _upload(s, "old-unused", clock.now() - timedelta(hours=30))
        _upload(s, "fresh-unused", clock.now() - timedelta(hours=2))
        _upload(s, "old-used", clock.now() - timedelta(hours=30))
        start_case(s, EngineContext(clock), report(city.city, source="supervisor", photos=["old-used"]),
                   Actor("supervisor1", "supervisor", None, "330191"))
    with city.session() as s:
        assert collect_orphans(s, clock.now()) == 1
    with city.session() as s:
        left = set(s.scalars(select(Attachment.token)))
    assert {"fresh-unused", "old-used"} <= left and "old-unused" not in left


def test_the_cli_collects_and_says_how_many(sqlite_city, clock):
    with sqlite_city.session() as s:
        _upload(s, "ancient", clock.now() - timedelta(days=400))
    result = CliRunner().invoke(cli, ["--database-url", sqlite_city.url, "uploads", "collect", "--json"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == '{"removed": 1}'
    bad = CliRunner().invoke(cli, ["--database-url", sqlite_city.url, "uploads", "collect", "--hours", "-1"])
    assert bad.exit_code == 2 and "--hours" in bad.stderr

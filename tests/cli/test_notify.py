"""``citycase notify``: the duty rota, people's addresses and dead letters from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from cli import cli
from engine.models import User
from engine.notify.models import NotificationSetting


def _run(db, *args: str):
    return CliRunner().invoke(cli, ["--database-url", db.url, "notify", *args])


def test_duty_and_contact_are_set_and_bad_input_refused(sqlite_city):
    db = sqlite_city
    assert _run(db, "duty", "leader1", "--on").exit_code == 0
    assert _run(db, "contact", "leader1", "--email", "leader1@city.example", "--phone", "13800000002").exit_code == 0
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "leader1"))
        setting = s.get(NotificationSetting, user.id)
        assert user.on_duty and (setting.email, setting.phone) == ("leader1@city.example", "13800000002")
    bad = _run(db, "contact", "leader1", "--email", "nope")
    assert bad.exit_code == 1 and "email" in bad.output
    assert _run(db, "duty", "nobody", "--on").exit_code == 1
    with db.session() as s:  # unchanged by the refused command
        assert s.scalar(select(NotificationSetting.email)) == "leader1@city.example"
    listed = _run(db, "dead-letters", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    assert _run(db, "dead-letters", "--retry", "424242").exit_code == 1


def test_a_webhook_without_its_secret_is_refused_before_serving(sqlite_city, monkeypatch):
    monkeypatch.setenv("CITYCASE_NOTIFY_CHANNELS", "webhook")
    monkeypatch.setenv("CITYCASE_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    result = CliRunner().invoke(cli, ["--database-url", sqlite_city.url, "scheduler", "--once"])
    assert result.exit_code == 1 and "CITYCASE_WEBHOOK_SECRET" in result.output
    result = CliRunner().invoke(cli, ["--database-url", sqlite_city.url, "serve", "--port", "1"])
    assert result.exit_code == 1 and "CITYCASE_WEBHOOK_SECRET" in result.output

"""The CLI says clearly what is wrong and exits ≠ 0: unusable database URLs (creating nothing),
cases and tasks that do not exist; user commands end sessions and follow the password policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli import cli
from engine.models import User


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def invoke(runner, url: str, *args: str):
    return runner.invoke(cli, ["--database-url", url, *args], catch_exceptions=False)


@pytest.mark.parametrize(("url", "says"), [
    ("sqlite:////nonexistent-citycase/x/y.db", "does not exist"),
    ("notaurl://", "not a database"),
    ("this is not a url", "not a database URL"),
])
def test_an_unusable_database_url_is_a_clear_error_and_creates_nothing(runner, url, says):
    result = invoke(runner, url, "verify")
    assert result.exit_code != 0
    assert says in result.stderr and "Traceback" not in result.output + result.stderr
    assert not Path("/nonexistent-citycase").exists()


@pytest.fixture(scope="module")
def city_url(runner, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'city.db'}"
    for args in (("db", "upgrade"), ("seed", "demo"), ("deploy", "bpmn/")):
        assert invoke(runner, url, *args).exit_code == 0
    return url


@pytest.mark.parametrize("args", [("verify", "--case", "nope"), ("history", "nope"),
                                  ("complete", "nope", "--user", "acceptor1")])
def test_asking_about_something_that_does_not_exist_exits_non_zero(runner, city_url, args):
    result = invoke(runner, city_url, *args)
    assert result.exit_code != 0 and "nope" in result.stderr


def _user(url: str, name: str) -> User:
    from engine.db import make_engine, session_factory

    with session_factory(make_engine(url))() as s:
        return s.scalar(select(User).where(User.username == name))


def test_user_commands_end_sessions_and_follow_the_password_policy(runner, city_url):
    before = _user(city_url, "handler_sanitation_330191").session_version
    weak = invoke(runner, city_url, "user", "set-password", "handler_sanitation_330191", "--password", "demo1234")
    assert weak.exit_code != 0 and "10 characters" in weak.stderr
    assert _user(city_url, "handler_sanitation_330191").session_version == before
    ok = invoke(runner, city_url, "user", "set-password", "handler_sanitation_330191", "--password",
                "Ahorn-Linde-2026", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["session_version"] == before + 1
    off = invoke(runner, city_url, "user", "disable", "handler_sanitation_330191", "--json")
    assert json.loads(off.stdout)["active"] is False and json.loads(off.stdout)["session_version"] == before + 2
    moved = invoke(runner, city_url, "user", "role", "leader1", "auditor", "--json")
    assert json.loads(moved.stdout)["role"] == "auditor"
    assert invoke(runner, city_url, "user", "disable", "nope").exit_code != 0


HOSTILE_BPMN = {
    "an external entity (XXE)": (lambda text: '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM '
                                 '"file:///etc/passwd">]>\n' + text.split("\n", 1)[1], "DOCTYPE"),
    "billion laughs": (lambda text: '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                       '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
                       + text.split("\n", 1)[1], "DOCTYPE"),
    "a sandbox escape in a condition": (lambda text: text.replace(
        "verdict == &apos;confirmed&apos;" if "verdict == &apos;" in text else "verdict == 'confirmed'",
        "().__class__.__base__.__subclasses__()", 1), "__"),
    "an exploding expression": (lambda text: text.replace(
        "verdict == &apos;confirmed&apos;" if "verdict == &apos;" in text else "verdict == 'confirmed'",
        "len((&apos;a&apos;*100000).replace(&apos;a&apos;,&apos;a&apos;*100000)) &gt; 0", 1), "100,000"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_BPMN))
def test_a_hostile_definition_is_refused_by_deploy_and_changes_nothing(runner, city, tmp_path, kind):
    import shutil

    from sqlalchemy import func

    from engine.models import Base

    change, says = HOSTILE_BPMN[kind]
    folder = tmp_path / "bpmn"
    shutil.copytree(Path(__file__).resolve().parents[2] / "bpmn", folder)
    bpmn = folder / "case_lifecycle.bpmn"
    bpmn.write_text(change(bpmn.read_text(encoding="utf-8")), encoding="utf-8")

    def counts():
        with city.session() as s:
            return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}

    before = counts()
    result = invoke(runner, city.url, "deploy", str(folder))
    assert result.exit_code != 0 and says in result.stderr, result.stderr
    assert counts() == before


def test_user_create_makes_a_first_admin_under_the_password_policy(runner, city_url):
    weak = invoke(runner, city_url, "user", "create", "cityadmin", "--role", "admin", "--password", "demo1234")
    assert weak.exit_code != 0 and "password" in weak.stderr and _user(city_url, "cityadmin") is None
    ok = invoke(runner, city_url, "user", "create", "cityadmin", "--role", "admin", "--name", "系统管理员",
                "--password", "Harbour-lights-42")
    assert ok.exit_code == 0, ok.output
    made = _user(city_url, "cityadmin")
    assert made.role == "admin" and made.active and made.display_name == "系统管理员"
    assert made.password_hash != "Harbour-lights-42"
    again = invoke(runner, city_url, "user", "create", "cityadmin", "--role", "admin", "--password", "Harbour-lights-42")
    assert again.exit_code != 0 and "taken" in again.stderr
    bad_dept = invoke(runner, city_url, "user", "create", "h9", "--role", "handler", "--department", "nope",
                      "--password", "Harbour-lights-42")
    assert bad_dept.exit_code != 0 and "department" in bad_dept.stderr


def test_user_commands_are_in_the_admin_history(runner, city_url):
    from engine.admin.history import entries
    from engine.db import make_engine, session_factory

    assert invoke(runner, city_url, "user", "disable", "dispatcher1").exit_code == 0
    assert invoke(runner, city_url, "user", "role", "supervisor1", "acceptor").exit_code == 0
    with session_factory(make_engine(city_url))() as s:
        rows = [r for r in entries(s) if r.target in ("dispatcher1", "supervisor1")]
    assert [(r.kind, r.target) for r in rows] == [("user_changed", "supervisor1"), ("user_disabled", "dispatcher1")]
    assert all(r.actor.startswith("cli:") for r in rows)

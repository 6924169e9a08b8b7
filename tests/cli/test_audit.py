"""``citycase verify``, ``checkpoint`` and ``erase-reporter`` as an operator and an outside auditor use them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli import cli
from engine.audit import verify as verify_module
from engine.model import EngineContext
from engine.models import Case, Event
from tests.engine.audit.conftest import walk
from tests.engine.audit.tamper import tamper


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYCASE_INSTANCE_DIR", str(tmp_path / "instance"))  # the signing key goes here
    return CliRunner()


def run(runner, url, *args, code=0):
    result = runner.invoke(cli, ["--database-url", url, *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def ctx(clock):
    return EngineContext(clock)


@pytest.fixture
def cases(city, ctx):
    return [walk(city, ctx, close=i == 1).case().number for i in range(4)]


def test_verify_ok_then_each_tampering_exits_1_naming_the_case(runner, city, cases):
    out = json.loads(run(runner, city.url, "verify", "--json").stdout)
    assert out["ok"] and out["checked"] == 4 and out["problems"] == []
    tamper(city, "UPDATE event SET actor = 'mallory' WHERE seq = 2 AND case_id = "
                 "(SELECT id FROM case_record WHERE number = :n)", n=cases[2])
    broken = run(runner, city.url, "verify", code=1)
    assert f"case {cases[2]}: [edited] event 2:" in broken.stdout
    assert "1 problem(s)" in broken.stdout
    chain = json.loads(run(runner, city.url, "verify", "--chain-only", "--json", code=1).stdout)
    assert [(p["number"], p["seq"], p["kind"]) for p in chain["problems"]] == [(cases[2], 2, "edited")]
    only = json.loads(run(runner, city.url, "verify", "--case", cases[0], "--json").stdout)
    assert only["checked"] == 1 and only["ok"]


def test_verify_in_two_worker_processes_finds_the_same(runner, city, cases, monkeypatch):
    monkeypatch.setattr(verify_module, "CHUNK", 1)  # one case per job
    assert json.loads(run(runner, city.url, "verify", "--workers", "2", "--json").stdout)["checked"] == 4
    tamper(city, "DELETE FROM event WHERE seq = 3 AND case_id = (SELECT id FROM case_record WHERE number = :n)",
           n=cases[3])
    out = json.loads(run(runner, city.url, "verify", "--workers", "2", "--json", code=1).stdout)
    assert [(p["number"], p["seq"], p["kind"]) for p in out["problems"]] == [(cases[3], 3, "missing_event")]


def test_bad_usage_exits_2_with_a_clear_message(runner, city, cases, tmp_path):
    nope = run(runner, city.url, "verify", "--case", "NOPE", code=2)
    assert "no case NOPE" in nope.stderr
    export = tmp_path / "cp.json"
    export.write_text("{}")
    alone = run(runner, city.url, "verify", "--against", str(export), code=2)
    assert "--public-key" in alone.stderr
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    assert "public key" in run(runner, city.url, "verify", "--against", str(export), "--public-key", str(key),
                               code=2).stderr
    run(runner, city.url, "checkpoint", "public-key", str(key))
    assert "not a citycase checkpoint export" in run(runner, city.url, "verify", "--against", str(export),
                                                     "--public-key", str(key), code=2).stderr


def test_an_outside_party_proves_the_history_against_its_export(runner, city, cases, ctx, tmp_path):
    made = json.loads(run(runner, city.url, "checkpoint", "create", "--json").stdout)["created"]
    assert made["tree_size"] > 0
    walk(city, ctx)
    run(runner, city.url, "checkpoint", "create")
    assert "nothing to sign" in run(runner, city.url, "checkpoint", "create").stdout
    export, key = tmp_path / "checkpoints.json", tmp_path / "public.pem"
    run(runner, city.url, "checkpoint", "export", str(export))
    run(runner, city.url, "checkpoint", "public-key", str(key))
    doc = json.loads(export.read_text())
    assert len(doc["checkpoints"]) == 2 and "public_key" not in json.dumps(doc)  # named by fingerprint only
    run(runner, city.url, "verify", "--against", str(export), "--public-key", str(key))

    newest = cases[3]
    q = "(SELECT id FROM case_record WHERE number = :n)"
    tamper(city, f"DELETE FROM event WHERE case_id = {q}", f"DELETE FROM task WHERE case_id = {q}",
           f"DELETE FROM deadline WHERE case_id = {q}", "DELETE FROM case_record WHERE number = :n",
           "DELETE FROM audit_checkpoint", n=newest)
    out = run(runner, city.url, "verify", "--against", str(export), "--public-key", str(key), "--json", code=1)
    kinds = {p["kind"] for p in json.loads(out.stdout)["problems"]}
    assert kinds == {"case_missing", "log_missing", "checkpoint_missing"}
    assert newest in out.stdout


def test_erasing_a_reporter_keeps_verify_green(runner, city, cases):
    run(runner, city.url, "checkpoint", "create")
    with city.session() as s:
        reporter = s.scalar(select(Case.reporter).where(Case.number == cases[1]))
    assert reporter
    done = json.loads(run(runner, city.url, "erase-reporter", cases[1], "--by", "admin1", "--json").stdout)
    with city.session() as s:
        case = s.scalar(select(Case).where(Case.number == cases[1]))
        erasure = s.scalar(select(Event).where(Event.case_id == case.id, Event.seq == done["seq"]))
    assert (case.reporter, case.reporter_salt) == ("", None)
    assert erasure.kind == "erasure" and reporter not in erasure.data
    run(runner, city.url, "verify")
    assert "already been erased" in run(runner, city.url, "erase-reporter", cases[1], "--by", "admin1",
                                        code=1).stderr
    assert "not an active admin" in run(runner, city.url, "erase-reporter", cases[0], "--by", "auditor1",
                                        code=2).stderr
    # Blanking a reporter without the command (no erasure event) is found.
    tamper(city, "UPDATE case_record SET reporter = '', reporter_salt = NULL WHERE number = :n", n=cases[0])
    assert "without an erasure event" in run(runner, city.url, "verify", code=1).stdout


def test_the_scheduler_signs_a_checkpoint_when_due(runner, city, cases):
    out = json.loads(run(runner, city.url, "scheduler", "--once", "--json").stdout)
    assert out["checkpoints"] == 1
    again = json.loads(run(runner, city.url, "scheduler", "--once", "--json").stdout)
    assert again["checkpoints"] == 0  # no new events
    assert json.loads(run(runner, city.url, "verify", "--json").stdout)["notes"] == []


def test_verify_on_a_database_that_was_never_migrated_is_bad_usage(runner, tmp_path):
    result = run(runner, f"sqlite:///{tmp_path / 'empty.db'}", "verify", code=2)
    assert "citycase db upgrade" in result.stderr and "Traceback" not in result.output


def test_a_city_configured_for_sm3_chains_new_reports_with_it(runner, city, cases, tmp_path, monkeypatch):
    """AUDIT_HASH=sm3 through the real entry point (system clock): new events are SM3, the older
    SHA-256 cases keep verifying, and an edit of the SM3 chain names the case."""
    monkeypatch.setenv("CITYCASE_AUDIT_HASH", "sm3")
    lon, lat = city.city["center"]
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"source": "citizen", "class_code": "E0102", "lon": lon, "lat": lat,
                                  "description": "x"}))
    number = json.loads(run(runner, city.url, "report", str(report), "--json").stdout)["number"]
    with city.session() as s:
        kinds = dict(s.execute(select(Case.number, Event.hash_alg).join(Event, Event.case_id == Case.id)).all())
    assert kinds[number] == "sm3" and kinds[cases[0]] == "sha256"
    out = json.loads(run(runner, city.url, "verify", "--json").stdout)
    assert out["ok"] and out["checked"] == 5
    tamper(city, "UPDATE event SET data = '{}' WHERE seq = 1 AND case_id = "
                 "(SELECT id FROM case_record WHERE number = :n)", n=number)
    broken = json.loads(run(runner, city.url, "verify", "--chain-only", "--json", code=1).stdout)
    assert [(p["number"], p["seq"], p["kind"]) for p in broken["problems"]] == [(number, 1, "edited")]


def test_a_truncated_access_log_fails_verify_and_verify_against(runner, city, cases, clock, tmp_path):
    from datetime import timedelta

    from engine.audit import access_log

    with city.session() as s:
        for i in range(4):
            access_log.record(s, access_log.Accessor("auditor1", "auditor"), access_log.AccessAction.VIEW_CASE,
                              clock.advance(timedelta(minutes=1)), cases[i])
    run(runner, city.url, "checkpoint", "create")
    export, key = tmp_path / "checkpoints.json", tmp_path / "public.pem"
    run(runner, city.url, "checkpoint", "export", str(export))
    run(runner, city.url, "checkpoint", "public-key", str(key))
    tamper(city, "DELETE FROM audit_access WHERE seq >= 3")
    out = run(runner, city.url, "verify", "--chain-only", code=1).stdout
    assert "[access_log_missing]" in out and "entries 3–4 were removed" in out
    tamper(city, "DELETE FROM audit_checkpoint")
    against = run(runner, city.url, "verify", "--chain-only", "--against", str(export), "--public-key", str(key),
                  "--json", code=1)
    assert "access_log_missing" in {p["kind"] for p in json.loads(against.stdout)["problems"]}

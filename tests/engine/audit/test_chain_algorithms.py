"""Case chains follow the configured hash (AUDIT_HASH): SM3 chains verify, damage to them is named,
and a city that switches keeps its SHA-256 chains verifiable — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from engine.audit import ProblemKind, verify_session
from engine.audit.chain import iso_utc
from engine.history import event_hash
from engine.model import EngineContext
from tests.engine.audit.conftest import DEPT, walk
from tests.engine.audit.tamper import tamper
from tests.factories import CaseDriver

CASE_OF = "(SELECT id FROM case_record WHERE number = :n)"


def verify(db):
    with db.session() as s:
        return verify_session(s)


def algorithms(db, number: str) -> list[str]:
    with db.session() as s:
        return list(s.execute(text(f"SELECT hash_alg FROM event WHERE case_id = {CASE_OF} ORDER BY seq"),
                              {"n": number}).scalars())


def test_a_case_chained_under_sm3_verifies(city, clock):
    number = walk(city, EngineContext(clock, hash_alg="sm3"), close=True).case().number
    assert set(algorithms(city, number)) == {"sm3"}
    with city.session() as s:
        row = s.execute(text(f"SELECT seq, at, actor, kind, task_id, task_spec, data, spec_hash, prev_hash, hash "
                             f"FROM event WHERE seq = 2 AND case_id = {CASE_OF}"), {"n": number}).one()
    at = iso_utc(row.at)
    fields = (row.prev_hash, number, 2, datetime.fromisoformat(at), row.actor, row.kind, row.task_id,
              row.task_spec, row.data, row.spec_hash)
    assert event_hash(*fields, "sm3") == row.hash != event_hash(*fields, "sha256")
    report = verify(city)
    assert report.ok and report.checked == 1, [str(p) for p in report.problems]


def test_an_edited_sm3_event_is_named(city, clock):
    number = walk(city, EngineContext(clock, hash_alg="sm3")).case().number
    tamper(city, f"UPDATE event SET actor = 'mallory' WHERE seq = 3 AND case_id = {CASE_OF}", n=number)
    problems = verify(city).problems
    assert [(p.kind, p.number, p.seq) for p in problems] == [(ProblemKind.EDITED, number, 3)]


def test_an_event_relabelled_to_another_hash_is_named(city, clock):
    number = walk(city, EngineContext(clock, hash_alg="sm3")).case().number
    tamper(city, f"UPDATE event SET hash_alg = 'sha256' WHERE seq = 2 AND case_id = {CASE_OF}", n=number)
    problems = verify(city).problems
    assert [(p.kind, p.number, p.seq) for p in problems] == [(ProblemKind.EDITED, number, 2)]


def test_an_unknown_hash_name_is_named_not_a_crash(city, clock):
    number = walk(city, EngineContext(clock)).case().number
    tamper(city, f"UPDATE event SET hash_alg = 'md5' WHERE seq = 2 AND case_id = {CASE_OF}", n=number)
    problems = verify(city).problems
    assert [(p.kind, p.number, p.seq) for p in problems] == [(ProblemKind.UNREADABLE, number, 2)]
    assert "md5" in problems[0].detail


def test_a_city_that_switches_to_sm3_keeps_its_sha256_chains(city, clock):
    old = walk(city, EngineContext(clock), close=True).case().number  # before the switch
    # A case opened before the switch and continued after it: its chain changes hash mid-way.
    switching = CaseDriver(city, EngineContext(clock))
    switching.start()
    if "verify" in switching.tasks():
        switching.do("verify", {"verdict": "confirmed"})
    switching.ctx = EngineContext(clock, hash_alg="sm3")
    switching.do("accept", {"decision": "file"})
    switching.do("file", {"decision": "file"})
    switching.do("dispatch", {"department": DEPT})
    new = walk(city, EngineContext(clock, hash_alg="sm3"), close=True).case().number
    mixed = switching.case().number
    assert set(algorithms(city, old)) == {"sha256"} and set(algorithms(city, new)) == {"sm3"}
    assert algorithms(city, mixed)[0] == "sha256" and algorithms(city, mixed)[-1] == "sm3"
    report = verify(city)
    assert report.ok and report.checked == 3, [str(p) for p in report.problems]
    # … and damage is still named in each kind of chain.
    tamper(city, f"UPDATE event SET actor = 'mallory' WHERE seq = 2 AND case_id = {CASE_OF}", n=old)
    tamper(city, f"UPDATE event SET actor = 'mallory' WHERE seq = 4 AND case_id = {CASE_OF}", n=mixed)
    found = {(p.kind, p.number, p.seq) for p in verify(city).problems}
    assert found == {(ProblemKind.EDITED, old, 2), (ProblemKind.EDITED, mixed, 4)}

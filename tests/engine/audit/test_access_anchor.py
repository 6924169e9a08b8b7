"""The auditor access log's end is anchored by the signed checkpoints: a truncated or rewritten
access log is found by verify (and by verify --against an export), naming what is missing —
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.audit import Options, ProblemKind, access_log, verify_session
from engine.audit import checkpoints as cps
from engine.audit.access_log import AccessAction, Accessor
from engine.audit.signing import generate
from engine.history import GENESIS
from tests.engine.audit.tamper import tamper

AUDITOR = Accessor("auditor1", "auditor")


@pytest.fixture
def key():
    return generate("ed25519")


def views(db, clock, n: int) -> None:
    with db.session() as s:
        for i in range(n):
            access_log.record(s, AUDITOR, AccessAction.VIEW_CASE, clock.advance(timedelta(minutes=1)), f"case{i}")


def checkpoint(db, key, clock):
    with db.session() as s:
        return cps.create(s, key, "sha256", clock.now())


def verify(db, key, against=None):
    with db.session() as s:
        return verify_session(s, Options(workers=1, public_key=key.public, against=against))


def kinds(report):
    return [p.kind for p in report.problems]


def test_a_checkpoint_signs_the_access_log_head(city, three, clock, key):
    views(city, clock, 3)
    made = checkpoint(city, key, clock)
    with city.session() as s:
        assert (made.body.access_size, made.body.access_hash) == access_log.head(s) != (0, GENESIS)
    assert verify(city, key).ok
    # Only auditor page views since: still due, and the next checkpoint signs the longer log.
    views(city, clock, 2)
    with city.session() as s:
        assert cps.due(s, clock.now() + timedelta(hours=2), every_events=1000, every_minutes=60)
    assert checkpoint(city, key, clock).body.access_size == 5
    assert verify(city, key).ok


def test_a_truncated_access_log_is_found_naming_the_missing_entries(city, three, clock, key):
    views(city, clock, 5)
    checkpoint(city, key, clock)
    tamper(city, "DELETE FROM audit_access WHERE seq >= 4")  # the chain of what is left is intact
    with city.session() as s:
        assert access_log.check_chain(s) is None
    problems = verify(city, key).problems
    assert kinds(verify(city, key)) == [ProblemKind.ACCESS_LOG_MISSING]
    assert "entries 4–5 were removed" in problems[0].detail


def test_a_rewritten_access_log_is_found_by_its_signed_hash(city, three, clock, key):
    views(city, clock, 4)
    checkpoint(city, key, clock)
    # Cut the log to 2 entries and write two new ones: the chain is intact and as long as signed.
    tamper(city, "DELETE FROM audit_access WHERE seq >= 3")
    views(city, clock, 2)
    with city.session() as s:
        assert access_log.check_chain(s) is None and access_log.head(s)[0] == 4
    assert kinds(verify(city, key)) == [ProblemKind.ACCESS_LOG_CHANGED]


def test_an_edited_entry_is_named(city, three, clock, key):
    views(city, clock, 3)
    tamper(city, "UPDATE audit_access SET username = 'someone' WHERE seq = 2")
    problems = verify(city, key).problems  # found by the chain even before any checkpoint
    assert kinds(verify(city, key)) == [ProblemKind.ACCESS_LOG_CHANGED] and "entry 2" in problems[0].detail


def test_the_export_anchors_the_access_log_when_the_database_lost_its_checkpoints(city, three, clock, key):
    views(city, clock, 3)
    checkpoint(city, key, clock)
    with city.session() as s:
        against = tuple(cps.parse_export(cps.export(cps.stored(s))))
    tamper(city, "DELETE FROM audit_access WHERE seq = 3", "DELETE FROM audit_checkpoint")
    assert ProblemKind.ACCESS_LOG_MISSING not in kinds(verify(city, key))  # nothing in the database to compare
    problems = verify(city, key, against).problems
    assert ProblemKind.ACCESS_LOG_MISSING in kinds(verify(city, key, against))
    assert any("entries 3–3" in p.detail for p in problems)


def test_checkpoints_signed_before_the_anchor_keep_verifying(city, three, clock, key):
    """An export written before migration 0011 has no access-log fields; its signatures still hold."""
    views(city, clock, 2)
    made = checkpoint(city, key, clock)
    old_body = cps.CheckpointBody(**{**made.body.__dict__, "access_size": None, "access_hash": None})
    old = cps.SignedCheckpoint(old_body, old_body.digest(), key.sign(old_body.message()).hex())
    doc = {k: v for k, v in old.as_dict().items() if k not in ("access_size", "access_hash")}
    parsed = cps.SignedCheckpoint.from_dict(doc)
    assert parsed.body.access_size is None and parsed.signature_ok(key.public)
    assert b"access" not in parsed.body.message()

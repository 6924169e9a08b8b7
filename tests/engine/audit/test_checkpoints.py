"""Signed checkpoints over the global event log prove what a per-case chain cannot: that nothing
was rewritten consistently, truncated or deleted since — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from engine.audit import Options, ProblemKind, verify_session
from engine.audit import checkpoints as cps
from engine.audit.chain import EVENT_COLUMNS, row_hash
from engine.audit.signing import generate, signing_key
from engine.config import load_config
from engine.models import Event
from tests.engine.audit.conftest import walk
from tests.engine.audit.tamper import tamper


@pytest.fixture(params=[("sha256", "ed25519"), ("sm3", "sm2")], ids=["sha256-ed25519", "sm3-sm2"])
def algs(request):
    return request.param


@pytest.fixture
def key(tmp_path, algs):
    return signing_key(load_config({"INSTANCE_DIR": str(tmp_path), "AUDIT_SIGNATURE": algs[1]}))


def checkpoint(db, key, hash_alg, clock):
    with db.session() as s:
        return cps.create(s, key, hash_alg, clock.now())


def verify(db, **options):
    with db.session() as s:
        return verify_session(s, Options(workers=1, **options))


def test_checkpoints_chain_and_verify(city, three, ctx, clock, key, algs):
    first = checkpoint(city, key, algs[0], clock)
    with city.session() as s:
        assert first.body.tree_size == s.scalar(select(func.count(Event.id)))
    assert first.signature_ok(key.public) and first.body.prev_hash == "0" * 64
    assert checkpoint(city, key, algs[0], clock) is None  # nothing new to cover
    walk(city, ctx)
    clock.advance(timedelta(minutes=5))
    second = checkpoint(city, key, algs[0], clock)
    assert second.body.prev_hash == first.hash and second.body.tree_size > first.body.tree_size
    report = verify(city, public_key=key.public)
    assert report.ok, [str(p) for p in report.problems]


def _rewrite_consistently(db, number: str) -> None:
    """Change an event and recompute every later hash and the case head: the case chain is intact."""
    from engine.db import make_engine

    engine = make_engine(db.url)
    with engine.connect() as conn:
        rows = [list(r) for r in conn.exec_driver_sql(
            f"SELECT e.id, {', '.join('e.' + c.strip() for c in EVENT_COLUMNS.split(','))} FROM event e "
            f"JOIN case_record c ON c.id = e.case_id WHERE c.number = '{number}' ORDER BY e.seq")]
    engine.dispose()
    statements, prev = [], "0" * 64
    for row in rows:
        event_id, event = row[0], row[1:]
        if event[0] == 2:
            event[2] = "mallory"
            statements.append(f"UPDATE event SET actor = 'mallory' WHERE id = {event_id}")
        event[8] = prev
        event[9] = row_hash(number, event, prev)
        statements.append(f"UPDATE event SET prev_hash = '{prev}', hash = '{event[9]}' WHERE id = {event_id}")
        prev = event[9]
    statements.append(f"UPDATE case_record SET last_hash = '{prev}' WHERE number = '{number}'")
    tamper(db, *statements)


def test_a_consistent_rewrite_passes_the_chain_but_not_the_checkpoint(city, three, clock, key, algs):
    checkpoint(city, key, algs[0], clock)
    _rewrite_consistently(city, three[0])
    report = verify(city, public_key=key.public)
    assert [p.kind for p in report.problems] == [ProblemKind.LOG_CHANGED], [str(p) for p in report.problems]


def test_a_truncated_case_is_found_by_its_head_and_by_the_log(city, three, clock, key, algs):
    checkpoint(city, key, algs[0], clock)
    q = "(SELECT id FROM case_record WHERE number = :n)"
    tamper(city, f"DELETE FROM event WHERE case_id = {q} AND seq = (SELECT max(seq) FROM event WHERE case_id = {q})",
           n=three[2])
    kinds = {p.kind for p in verify(city, public_key=key.public).problems}
    assert kinds == {ProblemKind.TRUNCATED, ProblemKind.LOG_MISSING}


def test_a_whole_deleted_history_tail_is_found_by_the_checkpoint(city, three, clock, key, algs):
    """The attacker deletes the newest case entirely and lowers the counter: only the log can tell."""
    checkpoint(city, key, algs[0], clock)
    n = three[2]
    q = "(SELECT id FROM case_record WHERE number = :n)"
    tamper(city, f"DELETE FROM event WHERE case_id = {q}", f"DELETE FROM task WHERE case_id = {q}",
           f"DELETE FROM deadline WHERE case_id = {q}", "DELETE FROM case_record WHERE number = :n",
           "UPDATE counter SET value = value - 1 WHERE name = :c", n=n, c="case:" + n[:8])
    problems = verify(city, public_key=key.public).problems
    assert [p.kind for p in problems] == [ProblemKind.LOG_MISSING], [str(p) for p in problems]
    assert "missing" in problems[0].detail


def test_export_and_verify_against_with_the_right_key_only(city, three, ctx, clock, key, algs):
    checkpoint(city, key, algs[0], clock)
    walk(city, ctx)
    checkpoint(city, key, algs[0], clock)
    with city.session() as s:
        doc = cps.export(cps.stored(s))
    assert doc["key_ids"] == [key.public.fingerprint]
    against = tuple(cps.parse_export(doc))
    assert verify(city, public_key=key.public, against=against).ok
    wrong = verify(city, public_key=generate(algs[1]).public, against=against).problems
    assert {p.kind for p in wrong} == {ProblemKind.CHECKPOINT_INVALID} and len(wrong) == 2
    doc["checkpoints"][0]["root"] = "0" * 64  # a forged root no longer matches its signature
    forged = verify(city, public_key=key.public, against=tuple(cps.parse_export(doc))).problems
    assert ProblemKind.CHECKPOINT_INVALID in {p.kind for p in forged}


def test_the_export_proves_what_the_database_lost(city, three, clock, key, algs):
    checkpoint(city, key, algs[0], clock)
    with city.session() as s:
        against = tuple(cps.stored(s))
    _rewrite_consistently(city, three[1])
    tamper(city, "DELETE FROM audit_checkpoint")  # and the attacker removes the stored checkpoints
    plain = verify(city, public_key=key.public)
    assert plain.ok  # nothing left in the database to compare with…
    problems = verify(city, public_key=key.public, against=against).problems
    assert {p.kind for p in problems} == {ProblemKind.LOG_CHANGED, ProblemKind.CHECKPOINT_MISSING}


def test_due_after_n_events_or_m_minutes(city, three, ctx, clock, key):
    with city.session() as s:
        assert cps.due(s, clock.now(), 1000, 60)  # never checkpointed and events exist
    checkpoint(city, key, "sha256", clock)
    walk(city, ctx)
    with city.session() as s:
        assert not cps.due(s, clock.now(), 1000, 60)
        assert cps.due(s, clock.now(), 3, 60)
        assert cps.due(s, clock.now() + timedelta(minutes=61), 1000, 60)


def test_history_rows_and_checkpoints_refuse_update_and_delete(city, three, clock, key):
    from sqlalchemy.exc import DatabaseError

    checkpoint(city, key, "sha256", clock)
    for sql in ("UPDATE event SET actor = 'mallory'", "DELETE FROM event",
                "UPDATE audit_checkpoint SET root = 'x'", "DELETE FROM audit_checkpoint"):
        with pytest.raises(DatabaseError, match="append-only"):
            with city.session() as s:
                s.execute(text(sql))
    assert verify(city, public_key=key.public).ok


@pytest.mark.postgres
def test_a_checkpoint_waits_for_events_still_in_flight(city, three, clock, key):
    """Ids are taken at insert but committed in any order: the checkpoint must not skip one."""
    import threading

    from engine.db import make_engine, session_factory

    if city.backend != "postgres":
        pytest.skip("SQLite has a single writer: ids commit in order")
    engine = make_engine(city.url)
    slow = engine.connect()
    slow_tx = slow.begin()
    # An event inserted (id taken) but not committed, and a later one committed first.
    copy = ("INSERT INTO event (case_id, seq, at, actor, kind, task_id, task_spec, data, spec_hash, prev_hash, hash) "
            "SELECT case_id, seq + 100, at, actor, kind, task_id, task_spec, data, spec_hash, prev_hash, hash "
            "FROM event WHERE id = (SELECT min(id) FROM event) RETURNING id")
    in_flight = slow.exec_driver_sql(copy).scalar_one()
    with engine.begin() as fast:
        committed = fast.exec_driver_sql(copy.replace("seq + 100", "seq + 200")).scalar_one()
    assert committed > in_flight
    made = {}

    def create() -> None:
        with session_factory(engine)() as s:
            made["cp"] = cps.create(s, key, "sha256", clock.now())
            s.commit()

    thread = threading.Thread(target=create)
    thread.start()
    with engine.connect() as probe:  # wait until the checkpoint is queued behind the open insert
        while not probe.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE relation = 'event'::regclass AND mode = 'ShareLock' "
                "AND NOT granted").scalar_one():
            probe.rollback()
            thread.join(0.05)
            if not thread.is_alive():
                break  # it did not wait: the assertions below fail
    slow_tx.commit()
    slow.close()
    thread.join()
    engine.dispose()
    assert made["cp"].body.last_event_id == committed
    with city.session() as s:
        assert made["cp"].body.tree_size == s.scalar(select(func.count(Event.id)).where(Event.id <= committed))
    problems = verify(city, public_key=key.public).problems
    assert ProblemKind.LOG_CHANGED not in {p.kind for p in problems} and ProblemKind.LOG_MISSING not in {
        p.kind for p in problems}


def test_garbage_in_a_checkpoint_or_the_counter_is_named_not_a_crash(city, three, clock, key):
    checkpoint(city, key, "sha256", clock)
    statements = ["UPDATE audit_checkpoint SET created_at = 'garbage', tree_size = 'x'",
                  "UPDATE counter SET value = 'many' WHERE name LIKE 'case:%'"]
    if city.backend == "postgres":  # typed columns: the attacker changes their types first
        statements[:0] = ["ALTER TABLE audit_checkpoint ALTER COLUMN created_at TYPE text",
                          "ALTER TABLE audit_checkpoint ALTER COLUMN tree_size TYPE text",
                          "ALTER TABLE counter ALTER COLUMN value TYPE text"]
    tamper(city, *statements)
    kinds = sorted(p.kind for p in verify(city, public_key=key.public).problems)
    assert kinds == [ProblemKind.CHECKPOINT_INVALID, ProblemKind.UNREADABLE]


def test_a_new_key_or_algorithm_signs_the_same_events_anew(city, three, clock, tmp_path):
    from engine.audit import log

    ed = signing_key(load_config({"INSTANCE_DIR": str(tmp_path), "AUDIT_SIGNATURE": "ed25519"}))
    sm = signing_key(load_config({"INSTANCE_DIR": str(tmp_path), "AUDIT_SIGNATURE": "sm2"}))
    first = checkpoint(city, ed, "sha256", clock)
    second = checkpoint(city, sm, "sm3", clock)
    assert second is not None and second.body.prev_hash == first.hash
    assert second.body.tree_size == first.body.tree_size and second.body.root != first.body.root
    assert checkpoint(city, sm, "sm3", clock) is None
    with city.session() as s:
        saved = cps.stored(s)
        assert log.check_roots(s, saved) == []
    assert [c.signature_ok(ed.public) for c in saved] == [True, False]
    assert [c.signature_ok(sm.public) for c in saved] == [False, True]

"""The auditor access log: one hash chain over the table; edits and removals are found."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from engine.audit import access_log
from engine.audit.access_log import AccessAction, Accessor
from tests.engine.audit.tamper import tamper

AUDITOR = Accessor("auditor1", "auditor")
ADMIN = Accessor("admin1", "admin")


def _fill(db, clock) -> None:
    with db.session() as s:
        access_log.record(s, AUDITOR, AccessAction.INDEX, clock.now())
        access_log.record(s, AUDITOR, AccessAction.SEARCH, clock.advance(timedelta(minutes=1)), "2026",
                          {"number": "2026", "found": 3})
    with db.session() as s:
        access_log.record(s, ADMIN, AccessAction.VIEW_LOG, clock.advance(timedelta(minutes=1)))
        access_log.record(s, AUDITOR, AccessAction.VIEW_CASE, clock.advance(timedelta(minutes=1)),
                          "202611250001", {"step": 4})


def test_entries_chain_in_order_and_read_back(db, clock):
    _fill(db, clock)
    with db.session() as s:
        rows = list(reversed(access_log.entries(s)))
        mine = access_log.entries(s, username="auditor1")
        assert access_log.check_chain(s) is None
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert [r.action for r in rows] == ["index", "search", "view_log", "view_case"]
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert orjson.loads(rows[1].details) == {"number": "2026", "found": 3}
    assert [r.seq for r in mine] == [4, 2, 1]


@pytest.mark.parametrize("edit", [
    "UPDATE audit_access SET target = '' WHERE seq = 2",
    "UPDATE audit_access SET username = 'someone' WHERE seq = 2",
    "UPDATE audit_access SET details = '{}' WHERE seq = 2",
])
def test_an_edited_entry_breaks_the_chain_there(db, clock, edit):
    _fill(db, clock)
    tamper(db, edit)
    with db.session() as s:
        broken = access_log.check_chain(s)
    assert broken is not None and broken.seq == 2 and "content" in broken.reason


def test_a_removed_entry_is_named(db, clock):
    _fill(db, clock)
    tamper(db, "DELETE FROM audit_access WHERE seq = 3")
    with db.session() as s:
        broken = access_log.check_chain(s)
    assert broken is not None and broken.seq == 3 and "missing" in broken.reason


def test_the_database_refuses_updates_and_deletes(db, clock):
    _fill(db, clock)
    for sql in ("UPDATE audit_access SET role = 'admin'", "DELETE FROM audit_access WHERE seq = 4"):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.session() as s:
                s.execute(text(sql))
    with db.session() as s:
        assert len(access_log.entries(s)) == 4 and access_log.check_chain(s) is None

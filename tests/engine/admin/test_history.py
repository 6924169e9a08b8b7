"""The admin history: every change chained; the database refuses to rewrite it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from engine.admin import departments, users
from engine.admin.history import check_chain, entries


def _changes(city, clock, admin) -> None:
    with city.session() as s:
        users.create_user(s, admin, clock.now(), "liming", "L1mingCity2026",
                          users.UserFields("李明", "acceptor"))
        users.set_active(s, admin, clock.now(), "liming", False)
        departments.create_department(s, admin, clock.now(), "roads@330191",
                                      departments.DepartmentFields("道路所", "roads"))


def test_every_change_is_chained_with_who_and_before_after(city, clock, admin):
    _changes(city, clock, admin)
    with city.session() as s:
        rows = list(reversed(entries(s)))
        assert check_chain(s) is None
    assert [(r.seq, r.actor, r.kind, r.target) for r in rows] == [
        (1, "admin1", "user_created", "liming"), (2, "admin1", "user_disabled", "liming"),
        (3, "admin1", "department_created", "roads@330191")]
    assert rows[0].before == "null" and '"role":"acceptor"' in rows[0].after
    assert '"active":true' in rows[1].before and '"active":false' in rows[1].after
    assert all(r.at == clock.now() for r in rows) and rows[1].prev_hash == rows[0].hash


@pytest.mark.parametrize("statement", ["UPDATE admin_event SET actor = 'someone'", "DELETE FROM admin_event"])
def test_the_database_refuses_to_rewrite_history(city, clock, admin, statement):
    _changes(city, clock, admin)
    with pytest.raises(DatabaseError, match="append-only"), city.session() as s:
        s.execute(text(statement))
    with city.session() as s:
        assert len(entries(s)) == 3 and check_chain(s) is None

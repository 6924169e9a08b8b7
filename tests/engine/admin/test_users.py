"""Accounts from the admin commands: created under the password policy, changed, disabled (sessions end)."""

from __future__ import annotations

import pytest

from engine.admin import users
from engine.admin.history import entries
from engine.errors import Conflict, Forbidden, ValidationError
from engine.model import Actor, Role
from engine.models import User
from engine.passwords import check_password

FIELDS = users.UserFields(display_name="王芳", role="handler", department_code="sanitation")


def test_create_then_change_role_ends_sessions(city, clock, admin):
    with city.session() as s:
        users.create_user(s, admin, clock.now(), "wangfang", "Gr1dCity2026x", FIELDS)
    with city.session() as s:
        user = users.get_user(s, "wangfang")
        assert check_password(user.password_hash, "Gr1dCity2026x") and user.active
        version = user.session_version
        users.change_user(s, admin, clock.now(), "wangfang",
                          users.UserFields("王芳", "dispatcher", None, "330191"))
    with city.session() as s:
        user = users.get_user(s, "wangfang")
        assert (user.role, user.district_code) == ("dispatcher", "330191")
        assert user.session_version > version
        kinds = [e.kind for e in entries(s, target="wangfang")]
    assert kinds == ["user_changed", "user_created"]


def test_disable_and_reset_password_end_sessions(city, clock, admin):
    with city.session() as s:
        before = users.get_user(s, "acceptor1").session_version
        users.set_active(s, admin, clock.now(), "acceptor1", False)
        users.reset_password(s, admin, clock.now(), "acceptor1", "N3wAcceptorPass")
    with city.session() as s:
        user = users.get_user(s, "acceptor1")
        assert not user.active and user.session_version >= before + 2
        events = entries(s, target="acceptor1")
    assert [e.kind for e in events] == ["password_reset", "user_disabled"]
    assert "N3wAcceptorPass" not in events[0].after and "scrypt" not in events[0].after


@pytest.mark.parametrize("username,password,fields,field", [
    ("ab", "Gr1dCity2026x", FIELDS, "username"),
    ("newuser", "short1", FIELDS, "password"),
    ("newuser", "Gr1dCity2026x", users.UserFields("x", "wizard"), "role"),
    ("newuser", "Gr1dCity2026x", users.UserFields("x", "handler", "no-such-dept"), "department_code"),
    ("newuser", "Gr1dCity2026x", users.UserFields("x", "dispatcher", None, "999999"), "district_code"),
])
def test_bad_accounts_are_refused_and_nothing_written(city, clock, admin, username, password, fields, field):
    with pytest.raises(ValidationError) as err, city.session() as s:
        users.create_user(s, admin, clock.now(), username, password, fields)
    assert field in err.value.fields
    with city.session() as s:
        assert s.query(User).filter_by(username=username).count() == 0
        assert entries(s) == []


def test_taken_name_and_non_admin_are_refused(city, clock, admin):
    with pytest.raises(Conflict), city.session() as s:
        users.create_user(s, admin, clock.now(), "acceptor1", "Gr1dCity2026x", FIELDS)
    with pytest.raises(Forbidden), city.session() as s:
        users.create_user(s, Actor("dispatcher1", Role.DISPATCHER), clock.now(), "sneaky", "Gr1dCity2026x", FIELDS)


def test_an_admin_cannot_disable_themselves(city, clock, admin):
    with pytest.raises(ValidationError), city.session() as s:
        users.set_active(s, admin, clock.now(), "admin1", False)

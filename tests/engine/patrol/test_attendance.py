"""Attendance per day against the roster: on time, late, early, absent, not started yet."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import ValidationError
from engine.patrol.attendance import attendance
from engine.patrol.duty import end_duty, start_duty
from engine.patrol.models import Attendance
from engine.patrol.roster import set_shift
from tests.engine.patrol.kit import DAY, TZ, local


def _roster(db, *users: str) -> None:
    with db.session() as s:
        for u in users:
            set_shift(s, u, DAY, "08:30", "17:30", [], TZ)


def _duty(db, user: str, start: str, end: str | None) -> None:
    with db.session() as s:
        start_duty(s, user, local(start))
        if end:
            end_duty(s, user, local(end))


def test_late_early_absent_and_on_time_against_the_roster(city):
    _roster(city, "supervisor1", "supervisor2", "supervisor3", "supervisor4", "supervisor5")
    _duty(city, "supervisor1", "08:28", "17:31")  # on time
    _duty(city, "supervisor2", "09:05", "17:30")  # 35 minutes late
    _duty(city, "supervisor3", "08:30", "16:00")  # 90 minutes early
    _duty(city, "supervisor4", "09:00", "16:30")  # both
    # supervisor5: never came
    with city.session() as s:
        rows = {r.username: r for r in attendance(s, DAY, DAY, local("18:00"))}
    assert {u: r.status for u, r in rows.items()} == {
        "supervisor1": Attendance.ON_TIME, "supervisor2": Attendance.LATE, "supervisor3": Attendance.EARLY,
        "supervisor4": Attendance.LATE_AND_EARLY, "supervisor5": Attendance.ABSENT}
    assert (rows["supervisor2"].late_minutes, rows["supervisor3"].early_minutes) == (35, 90)


def test_a_break_in_the_middle_of_the_shift_is_neither_late_nor_early(city):
    _roster(city, "supervisor1")
    _duty(city, "supervisor1", "08:30", "12:00")
    _duty(city, "supervisor1", "13:30", "17:30")
    with city.session() as s:
        (row,) = attendance(s, DAY, DAY, local("18:00"))
    assert row.status == Attendance.ON_TIME and row.first_start == local("08:30")


def test_before_and_during_the_shift(city):
    _roster(city, "supervisor1", "supervisor2")
    _duty(city, "supervisor2", "08:31", None)
    with city.session() as s:
        before = {r.username: r.status for r in attendance(s, DAY, DAY, local("08:00"))}
        during = {r.username: r.status for r in attendance(s, DAY, DAY, local("10:00"))}
    assert before["supervisor1"] == Attendance.NOT_STARTED
    assert during == {"supervisor1": Attendance.ABSENT, "supervisor2": Attendance.ON_DUTY}


def test_starting_twice_keeps_one_duty_and_ending_off_duty_changes_nothing(city):
    with city.session() as s:
        a = start_duty(s, "supervisor1", local("08:30"))
        b = start_duty(s, "supervisor1", local("08:31"))
        end_duty(s, "supervisor1", local("12:00"))
        c = end_duty(s, "supervisor1", local("12:05"))
    assert a.started_at == b.started_at == local("08:30")
    assert (c.on_duty, c.ended_at) == (False, local("12:00"))


@pytest.mark.parametrize("user,start,end,cells", [
    ("acceptor1", "08:30", "17:30", []),  # not a supervisor
    ("supervisor1", "8:30", "17:30", []),
    ("supervisor1", "08:30", "25:00", []),
    ("supervisor1", "08:30", "17:30", ["999999999999999"]),
])
def test_a_bad_roster_entry_is_refused(city, user, start, end, cells):
    with pytest.raises(ValidationError), city.session() as s:
        set_shift(s, user, date(2026, 11, 26), start, end, cells, TZ)

"""Every kind of damage to history rows is a named problem with the case number and event seq.

Each test tampers as an attacker with database access would (triggers dropped first) and runs
the same verify the CLI runs, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from engine.audit import NoteKind, ProblemKind, verify_session
from tests.engine.audit.tamper import event_id, tamper

CASE_OF = "(SELECT id FROM case_record WHERE number = :n)"


def verify(db):
    with db.session() as s:
        return verify_session(s)


def only(report, kind=None):
    assert len(report.problems) == 1, [str(p) for p in report.problems]
    problem = report.problems[0]
    if kind is not None:
        assert problem.kind == kind, str(problem)
    return problem


def test_untouched_history_verifies(city, three):
    report = verify(city)
    assert report.ok, [str(p) for p in report.problems]
    assert report.checked == 3
    assert [n.kind for n in report.notes] == [NoteKind.NO_CHECKPOINT]  # a note, not a failure


@pytest.mark.parametrize("column, value", [
    ("actor", "'mallory'"), ("kind", "'timer'"), ("task_id", "'00000000-0000-4000-8000-000000000000'"),
    ("task_spec", "'close'"), ("data", "'{\"form\":{}}'"), ("spec_hash", "'" + "a" * 64 + "'"),
    ("hash", "'" + "b" * 64 + "'"),
])
def test_an_edited_column_names_the_case_and_seq(city, three, column, value):
    number = three[0]
    assert tamper(city, f"UPDATE event SET {column} = {value} WHERE seq = 3 AND case_id = {CASE_OF}",
                  n=number) == [1]
    problem = only(verify(city), ProblemKind.EDITED)
    assert (problem.number, problem.seq) == (number, 3)


def test_an_edited_time_is_found(city, three):
    shift = "at = at + interval '1 second'" if city.backend == "postgres" else "at = datetime(at, '+1 second')"
    tamper(city, f"UPDATE event SET {shift} WHERE seq = 2 AND case_id = {CASE_OF}", n=three[1])
    problem = only(verify(city), ProblemKind.EDITED)
    assert (problem.number, problem.seq) == (three[1], 2)


def test_an_unparsable_time_is_named_not_a_crash(city, three):
    statements = [f"UPDATE event SET at = 'garbage' WHERE seq = 2 AND case_id = {CASE_OF}"]
    if city.backend == "postgres":  # a timestamp column cannot hold text: the attacker changes its type
        statements.insert(0, "ALTER TABLE event ALTER COLUMN at TYPE text")
    tamper(city, *statements, n=three[0])
    problem = only(verify(city), ProblemKind.UNREADABLE)
    assert (problem.number, problem.seq) == (three[0], 2) and "garbage" in problem.detail


def test_data_that_is_not_json_is_named(city, three):
    tamper(city, f"UPDATE event SET data = '{{not json' WHERE seq = 4 AND case_id = {CASE_OF}", n=three[2])
    problem = only(verify(city), ProblemKind.UNREADABLE)
    assert (problem.number, problem.seq) == (three[2], 4) and "not JSON" in problem.detail


def test_a_missing_event_is_named(city, three):
    tamper(city, f"DELETE FROM event WHERE seq = 3 AND case_id = {CASE_OF}", n=three[0])
    problem = only(verify(city), ProblemKind.MISSING_EVENT)
    assert (problem.number, problem.seq) == (three[0], 3)


def test_reordered_events_are_named(city, three):
    n = three[1]
    tamper(city, f"UPDATE event SET seq = -1 WHERE seq = 2 AND case_id = {CASE_OF}",
           f"UPDATE event SET seq = 2 WHERE seq = 3 AND case_id = {CASE_OF}",
           f"UPDATE event SET seq = 3 WHERE seq = -1 AND case_id = {CASE_OF}", n=n)
    problem = only(verify(city), ProblemKind.REORDERED)
    assert (problem.number, problem.seq) == (n, 2)


def test_events_swapped_between_cases_name_both_cases(city, three):
    a, b = three[0], three[2]
    ea, eb = event_id(city, a, 3), event_id(city, b, 3)
    tamper(city, f"UPDATE event SET case_id = 0 WHERE id = {ea}",
           f"UPDATE event SET case_id = (SELECT id FROM case_record WHERE number = :a) WHERE id = {eb}",
           f"UPDATE event SET case_id = (SELECT id FROM case_record WHERE number = :b) WHERE id = {ea}", a=a, b=b)
    report = verify(city)
    found = {(p.number, p.seq, p.kind) for p in report.problems}
    assert found == {(a, 3, ProblemKind.MOVED), (b, 3, ProblemKind.MOVED)}, [str(p) for p in report.problems]
    by_case = {p.number: p.detail for p in report.problems}
    assert f"recorded for case {b}" in by_case[a] and f"recorded for case {a}" in by_case[b]


def test_a_truncated_case_is_named(city, three):
    n = three[1]
    tamper(city, f"DELETE FROM event WHERE seq >= 8 AND case_id = {CASE_OF}", n=n)
    problem = only(verify(city), ProblemKind.TRUNCATED)
    assert problem.number == n and "events 8–" in problem.detail


def test_a_deleted_case_is_named_by_its_number(city, three):
    n = three[1]
    counts = tamper(city, f"DELETE FROM event WHERE case_id = {CASE_OF}", f"DELETE FROM task WHERE case_id = {CASE_OF}",
                    f"DELETE FROM deadline WHERE case_id = {CASE_OF}", "DELETE FROM case_record WHERE number = :n",
                    n=n)
    assert counts[0] > 0 and counts[-1] == 1
    problem = only(verify(city), ProblemKind.CASE_MISSING)
    assert problem.number == n


def test_events_left_of_a_deleted_case_row_are_named(city, three):
    tamper(city, f"DELETE FROM task WHERE case_id = {CASE_OF}", f"DELETE FROM deadline WHERE case_id = {CASE_OF}",
           "DELETE FROM case_record WHERE number = :n", n=three[0])
    kinds = {p.kind for p in verify(city).problems}
    assert kinds == {ProblemKind.CASE_MISSING}
    assert any(p.number == three[0] for p in verify(city).problems)


@pytest.mark.parametrize("column, value", [
    ("status", "'closed'"), ("department_code", "'parks@330191'"), ("description", "'nothing to see'"),
    ("class_code", "'E0101'"), ("urgency", "'emergency'"), ("lon", "lon + 0.01"), ("address", "'elsewhere'"),
    ("grid_code", "'330191001001999'"), ("district_code", "'330192'"), ("source", "'hotline'"),
    ("reporter", "'someone else'"), ("rating", "5"),
])
def test_an_edited_case_row_is_named_with_its_column(city, three, column, value):
    n = three[0]
    tamper(city, f"UPDATE case_record SET {column} = {value} WHERE number = :n", n=n)
    problem = only(verify(city), ProblemKind.ROW_MISMATCH)
    assert problem.number == n and (column in problem.detail or "reporter" in problem.detail)


def test_an_edited_outcome_and_closing_time_are_named(city, three):
    n = three[1]  # the closed case
    tamper(city, "UPDATE case_record SET outcome = 'voided' WHERE number = :n", n=n)
    problem = only(verify(city), ProblemKind.ROW_MISMATCH)
    assert problem.number == n and "outcome" in problem.detail


def test_an_edited_stored_state_is_named(city, three):
    tamper(city, "UPDATE case_record SET state = :s WHERE number = :n", s=b'{"tasks": {}}', n=three[2])
    problem = only(verify(city), ProblemKind.STATE_MISMATCH)
    assert problem.number == three[2]


def test_verify_survives_garbage_in_the_case_row(city, three):
    statements = ["UPDATE case_record SET closed_at = 'garbage' WHERE number = :n"]
    if city.backend == "postgres":
        statements.insert(0, "ALTER TABLE case_record ALTER COLUMN closed_at TYPE text")
    tamper(city, *statements, n=three[1])
    problem = only(verify(city), ProblemKind.ROW_MISMATCH)
    assert problem.number == three[1] and "closed_at" in problem.detail

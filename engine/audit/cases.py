"""Verify the cases of an id range: chain, case row against history, and (optionally) replay.

Everything is read as raw driver rows (``exec_driver_sql``) so that no column value — however
damaged — can make SQLAlchemy's type processing raise; findings say what is wrong instead.
Events are streamed in (case, seq) order once; a case's row and state are read in batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from engine import definitions
from engine.audit.assignees import compare_holders
from engine.audit.chain import EVENT_COLUMNS, CaseHead, check_case
from engine.audit.problems import Problem, ProblemKind, VerifyReport
from engine.audit.projection import CASE_COLUMNS, compare_row
from engine.audit.replay import canonical_state, replay, start_definition_id
from engine.audit.rows import raw_rows

_LOCATE_LIMIT = 200  # lookups for the origin of a foreign event per run; past it, "edited" is reported


class _Locator:
    """Which case an out-of-place event belongs to: the case holding its predecessor or successor."""

    def __init__(self, session: Session) -> None:
        self.session, self.left = session, _LOCATE_LIMIT

    def __call__(self, prev_hash: Any, digest: Any) -> list[str]:
        if self.left <= 0:
            return []
        self.left -= 1
        sql = text("SELECT c.number FROM event e JOIN case_record c ON c.id = e.case_id "
                   "WHERE e.hash = :prev OR e.prev_hash = :hash "
                   "UNION SELECT number FROM case_record WHERE last_hash = :hash")
        return list(self.session.execute(sql, {"prev": str(prev_hash), "hash": str(digest)}).scalars())


def _events(session: Session, lo: int, hi: int) -> Iterator[tuple[Any, list[Sequence[Any]]]]:
    # case_id last: the rows are used as they come, in EVENT_COLUMNS order (one more column at the end).
    rows = raw_rows(session, f"SELECT {EVENT_COLUMNS}, case_id FROM event WHERE case_id BETWEEN {int(lo)} AND "
                         f"{int(hi)} ORDER BY case_id, seq")
    for case_id, group in groupby(rows, key=itemgetter(11)):
        yield case_id, list(group)


def _cases(session: Session, lo: int, hi: int) -> dict[Any, dict[str, Any]]:
    rows = raw_rows(session, f"SELECT {', '.join(CASE_COLUMNS)} FROM case_record WHERE id BETWEEN {int(lo)} AND "
                         f"{int(hi)}")
    return {r[0]: dict(zip(CASE_COLUMNS, r, strict=True)) for r in rows}


def _definition_hashes(session: Session) -> dict[Any, str]:
    return dict(session.execute(text("SELECT id, sha256 FROM definition_version")).all())


def verify_range(session: Session, lo: int, hi: int, *, full: bool = True) -> VerifyReport:
    """Cases with lo <= id <= hi. ``full``: also replay each case and compare its state."""
    report = VerifyReport()
    cases = _cases(session, lo, hi)
    shas = _definition_hashes(session)
    locate = _Locator(session)
    seen: set[Any] = set()
    for case_id, rows in _events(session, lo, hi):
        case = cases.get(case_id)
        if case is None:
            report.add(Problem(ProblemKind.CASE_MISSING, f"{len(rows)} history events remain of case id {case_id}, "
                                                         f"whose case row is gone", None, case_id))
            continue
        seen.add(case_id)
        report.extend(verify_one(session, case, rows, shas, full, locate))
    for case_id, case in cases.items():
        if case_id not in seen:
            report.extend(verify_one(session, case, [], shas, full, locate))
    report.checked = len(cases)
    return report


def verify_one(session: Session, case: dict[str, Any], rows: list[Sequence[Any]], shas: dict[Any, str],
               full: bool, locate: Any = None) -> list[Problem]:
    head = CaseHead(case["id"], case["number"], case["last_seq"], case["last_hash"])
    broken = check_case(head, rows, locate)
    if broken or not rows:
        return broken
    try:
        replayed = _replay(session, case, rows) if full else None
    except _ReplayProblem as exc:
        return [exc.problem]
    try:
        findings = compare_row(case, rows, shas.get(case["definition_id"]), replayed)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a start event without its parts
        findings = [Problem(ProblemKind.UNREADABLE, f"the start event cannot be read: {exc}", case["number"],
                            case["id"], 1)]
    if full:
        tasks = session.connection().exec_driver_sql(
            f"SELECT id, assignee FROM task WHERE case_id = {int(case['id'])}").all()
        findings += compare_holders(case, rows, [tuple(t) for t in tasks])
    return findings


class _ReplayProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _replay(session: Session, case: dict[str, Any], rows: list[Sequence[Any]]):
    number, case_id = case["number"], case["id"]
    try:
        definition = definitions.load(session, start_definition_id(case["definition_id"], rows))
        replayed = replay(definition, number, rows, session)
    except Exception as exc:  # noqa: BLE001 — a history that cannot run is itself the finding
        raise _ReplayProblem(Problem(ProblemKind.REPLAY_FAILED, f"replaying the history failed: "
                                     f"{type(exc).__name__}: {exc}", number, case_id)) from exc
    state: Any = session.connection().exec_driver_sql(
        f"SELECT state FROM case_record WHERE id = {int(case_id)}").scalar()
    try:
        same = canonical_state(bytes(state)) == canonical_state(replayed.state)
    except (ValueError, TypeError):
        same = False
    if not same:
        raise _ReplayProblem(Problem(ProblemKind.STATE_MISMATCH, "replaying the history does not reproduce the "
                                                                 "stored workflow state", number, case_id))
    return replayed


def case_ids(session: Session, numbers: Sequence[str]) -> dict[str, int]:
    rows = session.execute(text("SELECT number, id FROM case_record WHERE number IN :numbers")
                           .bindparams(_expanding("numbers")), {"numbers": list(numbers)})
    return dict(rows.all())


def _expanding(name: str):
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


__all__ = ["verify_range", "verify_one", "case_ids"]

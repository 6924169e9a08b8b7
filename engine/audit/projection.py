"""The case row against its history: everything the row says must be in the events or follow from them.

What was reported (class, urgency, place, description, component, source) is in the start
event's ``report``; who reported it is bound by ``reporter_commitment`` = sha256(salt ‖ reporter)
with the salt on the row (erasing the reporter clears both, and an ``erasure`` event records
that it happened); the rating is in the rating event; status, outcome, department and closing
time follow from replaying the history (``replay.Replayed``). Cases filed before the start event
carried the report get a note, not a failure: their report was never recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from engine.audit.chain import AT, DATA, KIND, SPEC_HASH
from engine.audit.problems import NoteKind, Problem, ProblemKind
from engine.audit.replay import Replayed
from engine.commands.report import reporter_commitment
from engine.model import EventKind

# Columns of case_record verify reads (raw, as the driver returns them).
CASE_COLUMNS = ("id", "number", "definition_id", "status", "outcome", "source", "class_code", "urgency",
                "grid_code", "community_code", "street_code", "district_code", "lon", "lat", "address",
                "description", "component_id", "department_code", "reporter", "reporter_salt", "rating",
                "rating_note", "created_at", "closed_at", "last_seq", "last_hash")
REPORT_FIELDS = ("source", "class_code", "urgency", "lon", "lat", "address", "description", "component_id",
                 "grid_code", "community_code", "street_code", "district_code")


def _time(value: Any) -> datetime | None | str:
    """A stored time as an aware UTC datetime; unparsable text is returned as is (and then differs)."""
    if value is None or isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value is not None else None
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    except ValueError:
        return str(value)


class _Findings:
    def __init__(self, case: Mapping[str, Any]) -> None:
        self.case = case
        self.items: list[Problem] = []

    def differs(self, column: str, says: Any, row_value: Any, seq: int | None = None) -> None:
        if says != row_value:
            self.items.append(Problem(ProblemKind.ROW_MISMATCH,
                                      f"case_record.{column} is {row_value!r} but the history says {says!r}",
                                      self.case["number"], self.case["id"], seq))


def corrected_report(report: dict[str, Any], rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The start event's report with the ``correction`` events' changes applied in order (what
    engine.commands.correct wrote to the row)."""
    result = dict(report)
    for row in rows[1:]:
        if row[KIND] == EventKind.CORRECTION:
            result.update(orjson.loads(row[DATA]).get("changes") or {})
    return result


def compare_row(case: Mapping[str, Any], rows: Sequence[Sequence[Any]], definition_sha: str | None,
                replayed: Replayed | None = None) -> list[Problem]:
    """Problems (and the legacy note) for a case whose chain is intact."""
    f = _Findings(case)
    start = orjson.loads(rows[0][DATA])
    # Most histories hold no migration, correction, erasure or rating: one look at the kinds
    # spares the walks over the rows that look for them (this runs for every case).
    kinds = {row[KIND] for row in rows}
    f.differs("definition_id", _current_spec_hash(rows) if EventKind.MIGRATION in kinds else rows[0][SPEC_HASH],
              definition_sha, 1)
    if rows[0][AT] != case["created_at"]:  # the same raw value is the same time; else compare as times
        f.differs("created_at", _time(rows[0][AT]), _time(case["created_at"]), 1)
    report = start.get("report")
    if report is None:
        f.items.append(Problem(NoteKind.LEGACY_REPORT, "legacy case: report not in history (filed before the "
                                                       "start event recorded it); its report columns are unchecked",
                               case["number"], case["id"]))
    else:
        if EventKind.CORRECTION in kinds:
            report = corrected_report(report, rows)
        for column in REPORT_FIELDS:
            if report.get(column) != case[column]:
                f.differs(column, report.get(column), case[column], 1)
        _check_reporter(f, case, start.get("reporter_commitment"), EventKind.ERASURE in kinds)
    if EventKind.RATING in kinds:
        _check_rating(f, case, rows)
    elif case["rating"] is not None:
        f.differs("rating", None, case["rating"])
    if replayed is not None:
        f.differs("status", replayed.status, case["status"])
        f.differs("outcome", replayed.outcome, case["outcome"])
        f.differs("department_code", replayed.department, case["department_code"])
        f.differs("closed_at", replayed.closed_at, _time(case["closed_at"]))
    return f.items


def _current_spec_hash(rows: Sequence[Sequence[Any]]) -> Any:
    """The version the history leaves the case on: its start's, or its last migration's target."""
    current = rows[0][SPEC_HASH]
    for row in rows:
        if row[KIND] == EventKind.MIGRATION:
            current = orjson.loads(row[DATA]).get("to")
    return current


def _check_reporter(f: _Findings, case: Mapping[str, Any], commitment: str | None, erased: bool) -> None:
    reporter, salt = case["reporter"] or "", case["reporter_salt"] or ""
    if not reporter and not salt:
        if commitment is not None and not erased:
            f.items.append(Problem(ProblemKind.ROW_MISMATCH, "the reporter was removed from the case row without an "
                                                             "erasure event in its history",
                                   case["number"], case["id"]))
        return
    if reporter_commitment(salt, reporter) != commitment:
        f.items.append(Problem(ProblemKind.ROW_MISMATCH, "case_record.reporter (or its salt) does not match the "
                                                         "reporter commitment of the start event",
                               case["number"], case["id"], 1))


def _check_rating(f: _Findings, case: Mapping[str, Any], rows: Sequence[Sequence[Any]]) -> None:
    rated = [r for r in rows if r[KIND] == EventKind.RATING]
    if not rated:
        f.differs("rating", None, case["rating"])
        return
    data = orjson.loads(rated[-1][DATA])
    seq = rated[-1][0]
    f.differs("rating", data.get("rating"), case["rating"], seq)
    f.differs("rating_note", data.get("note") or None, case["rating_note"], seq)


__all__ = ["CASE_COLUMNS", "REPORT_FIELDS", "compare_row"]

"""What verify finds: typed problems, each naming the case (number, id) and the event (seq)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ProblemKind(StrEnum):
    # one event row
    UNREADABLE = "unreadable"            # a value that cannot be parsed (time, JSON, number)
    EDITED = "edited"                    # content no longer matches the event's hash
    MISSING_EVENT = "missing_event"      # a gap in the case's sequence
    REORDERED = "reordered"              # events whose recorded order was changed
    MOVED = "moved"                      # an event recorded for another case
    PREV_HASH = "prev_hash"              # the link to the previous event is broken
    # one case
    HEAD = "head"                        # the case row's last hash/seq disagree with its history
    TRUNCATED = "truncated"              # the newest events of a case are gone
    HISTORY_MISSING = "history_missing"  # a case row without any history
    REPLAY_FAILED = "replay_failed"
    STATE_MISMATCH = "state_mismatch"    # replay does not reproduce the stored workflow state
    ROW_MISMATCH = "row_mismatch"        # a case row column disagrees with what its events say
    # the whole history
    CASE_MISSING = "case_missing"        # a case number that was issued but whose case is gone
    LOG_MISSING = "log_missing"          # events a checkpoint covered are gone
    LOG_CHANGED = "log_changed"          # the events a checkpoint covered hash to another root
    CHECKPOINT_INVALID = "checkpoint_invalid"  # bad signature, broken checkpoint chain, unreadable
    CHECKPOINT_MISSING = "checkpoint_missing"  # a checkpoint in an export that the database lost
    # the auditor access log
    ACCESS_LOG_MISSING = "access_log_missing"  # entries a checkpoint anchored are gone (a cut tail)
    ACCESS_LOG_CHANGED = "access_log_changed"  # an entry was edited, or the log no longer ends where signed


class NoteKind(StrEnum):
    """Findings that are not failures."""

    LEGACY_REPORT = "legacy_report"      # created before reports were recorded in the start event
    NO_CHECKPOINT = "no_checkpoint"      # nothing signed yet: deletions of whole cases rely on the counter


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind | NoteKind
    detail: str
    number: str | None = None
    case_id: int | None = None
    seq: int | None = None

    @property
    def reason(self) -> str:
        """One line for people: where, then what."""
        where = f"event {self.seq}: " if self.seq is not None else ""
        return f"{where}{self.detail}"

    def __str__(self) -> str:
        case = f"case {self.number}" if self.number else "history"
        return f"{case}: [{self.kind}] {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "number": self.number, "case_id": self.case_id, "seq": self.seq,
                "detail": self.detail}


@dataclass
class VerifyReport:
    """The outcome of a verify run: cases checked, problems (failures) and notes (not failures)."""

    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, finding: Problem) -> None:
        (self.notes if isinstance(finding.kind, NoteKind) else self.problems).append(finding)

    def extend(self, findings: list[Problem]) -> None:
        for f in findings:
            self.add(f)

    def merge(self, other: VerifyReport) -> None:
        self.checked += other.checked
        self.problems += other.problems
        self.notes += other.notes

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "problems": [p.as_dict() for p in self.problems],
                "notes": [n.as_dict() for n in self.notes]}

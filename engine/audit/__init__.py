"""Auditing: is the history intact, complete, and does everything else follow from it?

- ``chain``: the hash chain of one case, over raw rows, never raising on their content;
- ``replay``: re-running a case's recorded commands to the state (and row columns) they imply;
- ``projection``: the case row against its history (report, reporter commitment, rating, status…);
- ``cases``: all of that for an id range of cases; ``verify``: every case, in worker processes,
  plus the history-wide checks;
- ``merkle``, ``checkpoints``, ``log``, ``signing``: the global log — an RFC 6962 Merkle tree over
  every event, signed checkpoints, and the checks that the history still holds what they covered;
- ``erasure``: erasing a reporter's personal data without breaking any of the above.
"""

from __future__ import annotations

from engine.audit.problems import NoteKind, Problem, ProblemKind, VerifyReport
from engine.audit.replay import canonical_state, replay_state
from engine.audit.verify import Options, run, verify_cases, verify_session


def verify_all(session, *, replay: bool = True) -> tuple[int, list[Problem]]:
    """(cases checked, problems) for everything, in this process — for callers that want the pair."""
    report = verify_session(session, Options(full=replay, workers=1))
    return report.checked, report.problems


__all__ = ["NoteKind", "Options", "Problem", "ProblemKind", "VerifyReport", "canonical_state", "replay_state",
           "run", "verify_all", "verify_cases", "verify_session"]

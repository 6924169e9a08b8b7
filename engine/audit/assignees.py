"""Who holds each open task, re-derived from the history: claim (the claimer), release (nobody),
assign (the named person). ``verify`` compares it with the task rows, so a holder changed in the
database without its event is found like any other row that disagrees with its history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from engine.audit.chain import ACTOR, DATA, KIND, TASK_ID
from engine.audit.problems import Problem, ProblemKind
from engine.model import EventKind


def holders(rows: Sequence[Sequence[Any]]) -> dict[str, str | None]:
    """task id → its holder after the last claim, release or assign event of that task."""
    held: dict[str, str | None] = {}
    for row in rows:
        kind = row[KIND]
        if kind == EventKind.CLAIM:
            held[str(row[TASK_ID])] = row[ACTOR]
        elif kind == EventKind.RELEASE:
            held[str(row[TASK_ID])] = None
        elif kind == EventKind.ASSIGN:
            held[str(row[TASK_ID])] = orjson.loads(row[DATA]).get("to")
    return held


def compare_holders(case: dict[str, Any], rows: Sequence[Sequence[Any]],
                    tasks: Sequence[tuple[Any, Any]]) -> list[Problem]:
    """Problems for task rows (id, assignee) whose holder is not the one the events name."""
    held = holders(rows)
    problems = []
    for task_id, assignee in tasks:
        says = held.get(str(task_id))
        if (assignee or None) != says:
            problems.append(Problem(ProblemKind.ROW_MISMATCH, f"task {task_id} is held by {assignee!r} but the "
                                                              f"history says {says!r}", case["number"], case["id"]))
    return problems


__all__ = ["holders", "compare_holders"]

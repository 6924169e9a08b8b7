"""The typed rows: TaskItems are built positionally from TASK_COLUMNS (the inbox's fast path)."""

from __future__ import annotations

from dataclasses import fields

from engine.queries.records import CASE_COLUMNS, TASK_COLUMNS, CaseRecord, TaskItem


def test_columns_follow_the_fields():
    assert [c.key for c in TASK_COLUMNS] == [f.name for f in fields(TaskItem)]
    assert [c.key for c in CASE_COLUMNS] == [f.name for f in fields(CaseRecord)]

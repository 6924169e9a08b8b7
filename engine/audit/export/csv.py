"""CSV: one row per exported event, UTF-8 with a byte-order mark so that Excel shows Chinese."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import BinaryIO

from engine.audit.export.source import ExportCase

COLUMNS = ("case", "seq", "time", "activity", "actor", "role", "department", "district", "class", "urgency",
           "kind")


def write_csv(cases: Iterable[ExportCase], out: BinaryIO, timezone: str) -> tuple[int, int]:
    """Write the rows; times are ISO 8601 in the city's time zone with their offset. Returns (cases, rows)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(timezone)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow(COLUMNS)
        n_cases = n_rows = 0
        for case in cases:
            n_cases += 1
            for e in case.events:
                writer.writerow((case.number, e.seq, e.at.astimezone(tz).isoformat(timespec="seconds"), e.activity,
                                 e.actor, e.role or "", e.department or "", case.district_code, case.class_code,
                                 case.urgency, e.kind))
                n_rows += 1
        text.flush()
    finally:
        text.detach()  # leave the caller's stream open
    return n_cases, n_rows

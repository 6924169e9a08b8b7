"""Event-log exports for process mining and the evaluation office: XES, OCEL 2.0 and CSV.

``write_export`` is the one entry point (the CLI and the audit pages' download call it): it
checks the filters, then streams the selected cases into ``out`` in the chosen format. It
only reads — it never commits — and needs no web framework.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.orm import Session

from engine.audit.export.filters import PERIOD_RULE, ExportFilters, ExportFormat, check_filters, parse_date
from engine.audit.export.source import count_cases, iter_cases

MEDIA_TYPES = {ExportFormat.XES: "application/xml", ExportFormat.CSV: "text/csv; charset=utf-8",
               ExportFormat.OCEL: "application/json"}
EXTENSIONS = {ExportFormat.XES: ".xes", ExportFormat.CSV: ".csv", ExportFormat.OCEL: ".json"}


@dataclass(frozen=True)
class ExportSummary:
    format: ExportFormat
    cases: int
    events: int
    objects: int = 0  # OCEL only

    def as_dict(self) -> dict[str, int | str]:
        return {"format": str(self.format), "cases": self.cases, "events": self.events, "objects": self.objects}


def file_name(fmt: ExportFormat | str, filters: ExportFilters) -> str:
    """A download name that says what the file holds: citycase_2026-03-01_2026-03-31_330191.xes."""
    parts = ["citycase", filters.date_from.isoformat(), filters.date_to.isoformat(),
             *(code.replace("@", "-") for code in (filters.district, filters.class_code, filters.department) if code)]
    return "_".join(parts) + EXTENSIONS[ExportFormat(fmt)]


def write_export(session: Session, fmt: ExportFormat | str, filters: ExportFilters, out: BinaryIO,
                 progress: Callable[[int, int], None] | None = None) -> ExportSummary:
    """Write the cases ``filters`` select to the binary stream ``out``; raises ValidationError
    (before writing anything) for an unknown format, a reversed period or unknown codes."""
    from engine.errors import ValidationError

    try:
        fmt = ExportFormat(fmt)
    except ValueError:
        raise ValidationError(f"unknown export format {fmt!r}; use one of {', '.join(ExportFormat)}",
                              {"format": "xes | csv | ocel"}) from None
    check_filters(session, filters)
    cases = iter_cases(session, filters, progress)
    if fmt is ExportFormat.XES:
        from engine.audit.export.xes import write_xes

        n_cases, n_events = write_xes(cases, out, f"citycase {filters.date_from} – {filters.date_to}")
        return ExportSummary(fmt, n_cases, n_events)
    if fmt is ExportFormat.CSV:
        from engine.audit.export.csv import write_csv

        n_cases, n_events = write_csv(cases, out, filters.timezone)
        return ExportSummary(fmt, n_cases, n_events)
    from engine.audit.export.ocel import write_ocel

    n_cases, n_events, n_objects = write_ocel(session, cases, out)
    return ExportSummary(fmt, n_cases, n_events, n_objects)


__all__ = ["ExportFilters", "ExportFormat", "ExportSummary", "PERIOD_RULE", "MEDIA_TYPES", "EXTENSIONS",
           "write_export", "count_cases", "parse_date", "file_name"]

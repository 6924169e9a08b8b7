"""What is measured (DOMAIN.md §6): the units evaluated, the case counts and the rates.

Every count is a number of *distinct cases*, so each number can be listed case by case (the
drill-down) and the list has exactly that many rows. Rates are percentages of two counts; the
formula of each lives here once (``RATE_FORMULAS``) and the pages, the CLI and Excel read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """The units evaluated: four region levels, the departments and four centre roles."""

    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    DEPARTMENT = "department"
    SUPERVISOR = "supervisor"
    ACCEPTOR = "acceptor"
    DISPATCHER = "dispatcher"
    SHIFT_LEADER = "shift_leader"


REGION_KINDS = (Kind.DISTRICT, Kind.STREET, Kind.COMMUNITY, Kind.GRID)
PERSON_KINDS = (Kind.SUPERVISOR, Kind.ACCEPTOR, Kind.DISPATCHER, Kind.SHIFT_LEADER)


class Metric(StrEnum):
    """Case counts. Each is counted when its own event falls in the period (see walk.py)."""

    REPORTED = "reported"                  # start event
    VALID = "valid"                        # reported in the period and filed (or self-handled) by its end
    VERIFIED = "verified"                  # verify step completed
    VERIFIED_ON_TIME = "verified_on_time"
    ACCEPTED = "accepted"                  # accept step completed
    ACCEPTED_ON_TIME = "accepted_on_time"
    ACCEPT_AGREED = "accept_agreed"        # the shift leader decided as the acceptor proposed
    FILED = "filed"                        # 立案 (file decision, or a self-handled case confirmed)
    FILED_ON_TIME = "filed_on_time"        # the file step (either decision) within its limit
    VOIDED = "voided"                      # 作废
    SUPERVISOR_FILED = "supervisor_filed"  # filed, reported by a supervisor
    PUBLIC_FILED = "public_filed"          # filed, reported by the public (hotline, app, camera…)
    DISPATCHED = "dispatched"
    DISPATCHED_ON_TIME = "dispatched_on_time"
    HANDLED = "handled"                    # first "done" of the department in the period
    HANDLED_ON_TIME = "handled_on_time"    # ... within the handling deadline (suspended time excluded)
    RETURNED = "returned"                  # 回退 approved
    REWORKED = "reworked"                  # 返工: check failed
    SUSPENDED = "suspended"                # 挂账 approved
    CHECKED = "checked"                    # check step completed
    CHECKED_ON_TIME = "checked_on_time"
    CLOSED = "closed"                      # 结案
    CLOSED_ON_TIME = "closed_on_time"      # closed, and every handling finished within its deadline
    CLOSE_STEP_ON_TIME = "close_step_on_time"  # the close step itself within its limit
    OVERDUE = "overdue"                    # at the period's end: still to handle, deadline passed
    RATED = "rated"                        # citizen rating given
    SATISFIED = "satisfied"                # rating 4 or 5
    # Patrol (engine.patrol.coverage): cell-days, not cases — no case list behind them.
    PATROL_CELLS = "patrol_cells"                    # grid cells visited on duty, summed over days
    PATROL_CELLS_ASSIGNED = "patrol_cells_assigned"  # the roster's cells, summed over days
    PATROL_CELLS_COVERED = "patrol_cells_covered"    # the roster's cells visited that day
    DUPLICATE = "duplicate"                # merged into another case as its duplicate (not filed, not closed)
    REOPENED = "reopened"                  # reopened after closing: a new handling round
    CALLED_BACK = "called_back"            # 回访 done after closing
    CALLBACK_SATISFIED = "callback_satisfied"  # ... and the reporter satisfied or basically satisfied


class Rate(StrEnum):
    CLOSE_RATE = "close_rate"                      # 结案率
    ON_TIME_CLOSE_RATE = "on_time_close_rate"      # 按期结案率
    ON_TIME_HANDLE_RATE = "on_time_handle_rate"    # 按时处置率
    REWORK_RATE = "rework_rate"                    # 返工率
    SUPERVISOR_REPORT_RATE = "supervisor_report_rate"  # 监督举报率
    MISS_RATE = "miss_rate"                        # 漏报率
    ACCURATE_FILING_RATE = "accurate_filing_rate"  # 准确立案率
    ACCURATE_DISPATCH_RATE = "accurate_dispatch_rate"  # 准确派遣率
    VALID_REPORT_RATE = "valid_report_rate"
    ON_TIME_VERIFY_RATE = "on_time_verify_rate"
    ON_TIME_CHECK_RATE = "on_time_check_rate"
    ON_TIME_ACCEPT_RATE = "on_time_accept_rate"
    ACCEPT_ACCURACY_RATE = "accept_accuracy_rate"
    ON_TIME_FILING_RATE = "on_time_filing_rate"
    ON_TIME_DISPATCH_RATE = "on_time_dispatch_rate"
    ON_TIME_CLOSING_RATE = "on_time_closing_rate"
    SATISFACTION = "satisfaction"
    PATROL_COVERAGE = "patrol_coverage"            # 网格巡查覆盖率
    CALLBACK_SATISFACTION = "callback_satisfaction"  # 回访满意率


@dataclass(frozen=True)
class Formula:
    """rate = 100 × (Σ plus − Σ minus) / Σ over, None when the denominator is 0."""

    plus: tuple[Metric, ...]
    over: tuple[Metric, ...]
    minus: tuple[Metric, ...] = ()

    def value(self, counts: dict[Metric, int]) -> float | None:
        den = sum(counts.get(m, 0) for m in self.over)
        if den <= 0:
            return None
        num = sum(counts.get(m, 0) for m in self.plus) - sum(counts.get(m, 0) for m in self.minus)
        return round(100.0 * max(0, num) / den, 2)


M = Metric
# 应结案 (due to close) = closed in the period + still overdue at its end.
DUE_TO_CLOSE = (M.CLOSED, M.OVERDUE)
RATE_FORMULAS: dict[Rate, Formula] = {
    Rate.CLOSE_RATE: Formula((M.CLOSED,), DUE_TO_CLOSE),
    Rate.ON_TIME_CLOSE_RATE: Formula((M.CLOSED_ON_TIME,), DUE_TO_CLOSE),
    Rate.ON_TIME_HANDLE_RATE: Formula((M.HANDLED_ON_TIME,), (M.HANDLED,)),
    Rate.REWORK_RATE: Formula((M.REWORKED,), (M.DISPATCHED,)),
    Rate.SUPERVISOR_REPORT_RATE: Formula((M.SUPERVISOR_FILED,), (M.FILED,)),
    Rate.MISS_RATE: Formula((M.PUBLIC_FILED,), (M.FILED,)),
    # DOMAIN.md: 准确立案 = filed − voided, 准确派遣 = dispatched − returned.
    Rate.ACCURATE_FILING_RATE: Formula((M.FILED,), (M.FILED,), (M.VOIDED,)),
    Rate.ACCURATE_DISPATCH_RATE: Formula((M.DISPATCHED,), (M.DISPATCHED,), (M.RETURNED,)),
    Rate.VALID_REPORT_RATE: Formula((M.VALID,), (M.REPORTED,)),
    Rate.ON_TIME_VERIFY_RATE: Formula((M.VERIFIED_ON_TIME,), (M.VERIFIED,)),
    Rate.ON_TIME_CHECK_RATE: Formula((M.CHECKED_ON_TIME,), (M.CHECKED,)),
    Rate.ON_TIME_ACCEPT_RATE: Formula((M.ACCEPTED_ON_TIME,), (M.ACCEPTED,)),
    Rate.ACCEPT_ACCURACY_RATE: Formula((M.ACCEPT_AGREED,), (M.ACCEPTED,)),
    Rate.ON_TIME_FILING_RATE: Formula((M.FILED_ON_TIME,), (M.FILED, M.VOIDED)),
    Rate.ON_TIME_DISPATCH_RATE: Formula((M.DISPATCHED_ON_TIME,), (M.DISPATCHED,)),
    Rate.ON_TIME_CLOSING_RATE: Formula((M.CLOSE_STEP_ON_TIME,), (M.CLOSED,)),
    Rate.SATISFACTION: Formula((M.SATISFIED,), (M.RATED,)),
    Rate.PATROL_COVERAGE: Formula((M.PATROL_CELLS_COVERED,), (M.PATROL_CELLS_ASSIGNED,)),
    Rate.CALLBACK_SATISFACTION: Formula((M.CALLBACK_SATISFIED,), (M.CALLED_BACK,)),
}
# Counts that are not numbers of cases (no drill-down to cases).
NOT_CASE_METRICS = frozenset({M.PATROL_CELLS, M.PATROL_CELLS_ASSIGNED, M.PATROL_CELLS_COVERED})

_REGION_METRICS = (M.REPORTED, M.VALID, M.FILED, M.VOIDED, M.SUPERVISOR_FILED, M.PUBLIC_FILED, M.DISPATCHED,
                   M.HANDLED, M.HANDLED_ON_TIME, M.RETURNED, M.REWORKED, M.SUSPENDED, M.CLOSED,
                   M.CLOSED_ON_TIME, M.OVERDUE, M.RATED, M.SATISFIED, M.DUPLICATE, M.REOPENED, M.CALLED_BACK,
                   M.CALLBACK_SATISFIED)
_REGION_RATES = (Rate.CLOSE_RATE, Rate.ON_TIME_CLOSE_RATE, Rate.ON_TIME_HANDLE_RATE, Rate.REWORK_RATE,
                 Rate.SUPERVISOR_REPORT_RATE, Rate.MISS_RATE, Rate.SATISFACTION, Rate.CALLBACK_SATISFACTION)

# The columns each kind's table shows, in order (counts, then rates).
COLUMNS: dict[Kind, tuple[tuple[Metric, ...], tuple[Rate, ...]]] = {
    **{k: (_REGION_METRICS, _REGION_RATES) for k in REGION_KINDS},
    Kind.DEPARTMENT: ((M.DISPATCHED, M.HANDLED, M.HANDLED_ON_TIME, M.RETURNED, M.REWORKED, M.SUSPENDED,
                       M.CLOSED, M.CLOSED_ON_TIME, M.OVERDUE, M.RATED, M.SATISFIED, M.REOPENED),
                      (Rate.CLOSE_RATE, Rate.ON_TIME_CLOSE_RATE, Rate.ON_TIME_HANDLE_RATE, Rate.REWORK_RATE,
                       Rate.SATISFACTION)),
    Kind.SUPERVISOR: ((M.REPORTED, M.VALID, M.VERIFIED, M.VERIFIED_ON_TIME, M.CHECKED, M.CHECKED_ON_TIME,
                       M.FILED, M.PUBLIC_FILED, M.PATROL_CELLS, M.PATROL_CELLS_ASSIGNED, M.PATROL_CELLS_COVERED),
                      (Rate.VALID_REPORT_RATE, Rate.MISS_RATE, Rate.ON_TIME_VERIFY_RATE, Rate.ON_TIME_CHECK_RATE,
                       Rate.PATROL_COVERAGE)),
    Kind.ACCEPTOR: ((M.ACCEPTED, M.ACCEPTED_ON_TIME, M.ACCEPT_AGREED),
                    (Rate.ON_TIME_ACCEPT_RATE, Rate.ACCEPT_ACCURACY_RATE)),
    Kind.DISPATCHER: ((M.DISPATCHED, M.DISPATCHED_ON_TIME, M.RETURNED),
                      (Rate.ON_TIME_DISPATCH_RATE, Rate.ACCURATE_DISPATCH_RATE)),
    Kind.SHIFT_LEADER: ((M.FILED, M.VOIDED, M.FILED_ON_TIME, M.CLOSED, M.CLOSE_STEP_ON_TIME),
                        (Rate.ON_TIME_FILING_RATE, Rate.ACCURATE_FILING_RATE, Rate.ON_TIME_CLOSING_RATE)),
}

# The count a kind's volume score (0–100, relative to the busiest unit of the kind) is based on.
VOLUME_METRIC: dict[Kind, Metric] = {
    **{k: M.REPORTED for k in REGION_KINDS},
    Kind.DEPARTMENT: M.HANDLED, Kind.SUPERVISOR: M.REPORTED, Kind.ACCEPTOR: M.ACCEPTED,
    Kind.DISPATCHER: M.DISPATCHED, Kind.SHIFT_LEADER: M.FILED,
}

__all__ = ["COLUMNS", "DUE_TO_CLOSE", "NOT_CASE_METRICS", "PERSON_KINDS", "RATE_FORMULAS", "REGION_KINDS", "VOLUME_METRIC",
           "Formula", "Kind", "Metric", "Rate"]

"""Evaluation (综合评价 / 监督考核, DOMAIN.md §6) computed from the history events.

metrics.py   kinds of units, case counts, rates and their formulas, the columns of each kind
walk.py      one case's events → what it counts for in a period (deadlines from the events)
compute.py   streaming the history, the results of every kind, the drill-down to cases
scoring.py   composite scores and grades from the editable weights and grade bands
periods.py   months, quarters, day ranges; 环比 and 同比
excel.py     the tables as a city office prints them (openpyxl)
snapshots.py monthly snapshots: frozen, hash-chained, re-computable
command.py   the command screen's figures (today's counts, department lights, open cases per grid)
trends.py    hotspots, repeat problems, trends, forecast and early warning
"""

from engine.evaluation.compute import (
    TOTAL,
    Evaluation,
    KindResult,
    Period,
    UnitResult,
    cached_evaluate,
    cases_behind,
    evaluate,
)
from engine.evaluation.metrics import COLUMNS, RATE_FORMULAS, Kind, Metric, Rate

__all__ = ["COLUMNS", "RATE_FORMULAS", "TOTAL", "Evaluation", "Kind", "KindResult", "Metric", "Period", "Rate",
           "UnitResult", "cached_evaluate", "cases_behind", "evaluate"]

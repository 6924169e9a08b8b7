"""Names of the kinds, counts and rates in Chinese (the default) and English.

Excel files and the CLI are made outside a web request, so the names live here as data rather
than in the web catalogue; the pages pick the language of the request.
"""

from __future__ import annotations

from engine.evaluation.metrics import Kind, Metric, Rate

KIND_LABELS: dict[Kind, tuple[str, str]] = {
    Kind.DISTRICT: ("区", "District"), Kind.STREET: ("街道", "Street"), Kind.COMMUNITY: ("社区", "Community"),
    Kind.GRID: ("单元网格", "Grid cell"), Kind.DEPARTMENT: ("专业部门", "Department"),
    Kind.SUPERVISOR: ("监督员", "Supervisor"), Kind.ACCEPTOR: ("受理员", "Acceptor"),
    Kind.DISPATCHER: ("派遣员", "Dispatcher"), Kind.SHIFT_LEADER: ("值班长", "Shift leader"),
}

METRIC_LABELS: dict[Metric, tuple[str, str]] = {
    Metric.REPORTED: ("上报数", "Reported"), Metric.VALID: ("有效上报数", "Valid reports"),
    Metric.VERIFIED: ("核实数", "Verified"), Metric.VERIFIED_ON_TIME: ("按时核实数", "Verified on time"),
    Metric.ACCEPTED: ("受理数", "Accepted"), Metric.ACCEPTED_ON_TIME: ("按时受理数", "Accepted on time"),
    Metric.ACCEPT_AGREED: ("准确受理数", "Accepted correctly"),
    Metric.FILED: ("立案数", "Filed"), Metric.FILED_ON_TIME: ("按时立案数", "Filed on time"),
    Metric.VOIDED: ("作废数", "Voided"), Metric.SUPERVISOR_FILED: ("监督员上报立案数", "Filed, by supervisors"),
    Metric.PUBLIC_FILED: ("公众上报立案数", "Filed, by the public"),
    Metric.DISPATCHED: ("派遣数", "Dispatched"), Metric.DISPATCHED_ON_TIME: ("按时派遣数", "Dispatched on time"),
    Metric.HANDLED: ("处置数", "Handled"), Metric.HANDLED_ON_TIME: ("按时处置数", "Handled on time"),
    Metric.RETURNED: ("回退数", "Returned"), Metric.REWORKED: ("返工数", "Reworked"),
    Metric.SUSPENDED: ("挂账数", "Suspended"), Metric.CHECKED: ("核查数", "Checked"),
    Metric.CHECKED_ON_TIME: ("按时核查数", "Checked on time"), Metric.CLOSED: ("结案数", "Closed"),
    Metric.CLOSED_ON_TIME: ("按期结案数", "Closed on time"),
    Metric.CLOSE_STEP_ON_TIME: ("按时结案操作数", "Closing step on time"),
    Metric.OVERDUE: ("超期未处置数", "Overdue"), Metric.RATED: ("评价数", "Rated"),
    Metric.SATISFIED: ("满意数", "Satisfied"),
    Metric.PATROL_CELLS: ("巡查网格数", "Cells patrolled"),
    Metric.PATROL_CELLS_ASSIGNED: ("应巡网格数", "Cells rostered"),
    Metric.PATROL_CELLS_COVERED: ("已巡应巡网格数", "Rostered cells patrolled"),
    Metric.DUPLICATE: ("重复上报合并数", "Merged duplicates"), Metric.REOPENED: ("重开数", "Reopened"),
    Metric.CALLED_BACK: ("回访数", "Called back"), Metric.CALLBACK_SATISFIED: ("回访满意数", "Satisfied at callback"),
}

RATE_LABELS: dict[Rate, tuple[str, str]] = {
    Rate.CLOSE_RATE: ("结案率", "Closing rate"), Rate.ON_TIME_CLOSE_RATE: ("按期结案率", "On-time closing rate"),
    Rate.ON_TIME_HANDLE_RATE: ("按时处置率", "On-time handling rate"), Rate.REWORK_RATE: ("返工率", "Rework rate"),
    Rate.SUPERVISOR_REPORT_RATE: ("监督举报率", "Supervisor report rate"), Rate.MISS_RATE: ("漏报率", "Miss rate"),
    Rate.ACCURATE_FILING_RATE: ("准确立案率", "Accurate filing rate"),
    Rate.ACCURATE_DISPATCH_RATE: ("准确派遣率", "Accurate dispatch rate"),
    Rate.VALID_REPORT_RATE: ("有效上报率", "Valid report rate"),
    Rate.ON_TIME_VERIFY_RATE: ("按时核实率", "On-time verify rate"),
    Rate.ON_TIME_CHECK_RATE: ("按时核查率", "On-time check rate"),
    Rate.ON_TIME_ACCEPT_RATE: ("按时受理率", "On-time accept rate"),
    Rate.ACCEPT_ACCURACY_RATE: ("受理准确率", "Accept accuracy"),
    Rate.ON_TIME_FILING_RATE: ("按时立案率", "On-time filing rate"),
    Rate.ON_TIME_DISPATCH_RATE: ("按时派遣率", "On-time dispatch rate"),
    Rate.ON_TIME_CLOSING_RATE: ("按时结案率", "On-time closing-step rate"),
    Rate.SATISFACTION: ("满意率", "Satisfaction"),
    Rate.PATROL_COVERAGE: ("网格巡查覆盖率", "Patrol coverage"),
    Rate.CALLBACK_SATISFACTION: ("回访满意率", "Callback satisfaction"),
}

WORDS: dict[str, tuple[str, str]] = {
    "title": ("数字城管综合评价", "Digital urban management evaluation"),
    "period": ("考核期", "Period"), "rank": ("排名", "Rank"), "unit": ("单位", "Unit"), "code": ("编码", "Code"),
    "score": ("综合得分", "Score"), "grade": ("等级", "Grade"), "total": ("合计", "Total"),
    "made": ("制表时间", "Made"), "unit_note": ("单位：件；比率：%", "Counts in cases; rates in %"),
}


def pick(pair: tuple[str, str], lang: str = "zh") -> str:
    return pair[1] if lang.startswith("en") else pair[0]


__all__ = ["KIND_LABELS", "METRIC_LABELS", "RATE_LABELS", "WORDS", "pick"]

"""What Open311 tells a citizen's app about a request: its status and a note in the citizen's words.

Staff see step names (核实, 处置, 核查); a citizen is told where their report stands ("责任单位正在处置")
and never sees internal steps such as 督办 or 挂账审核. When several tasks are open the note follows
the one furthest along the citizen's path.
"""

from __future__ import annotations

CLOSED_STATUSES = ("closed", "voided", "invalid", "merged")
OPEN_STATUSES = ("open", "suspended")

_FINAL_NOTES = {"closed": "问题已处理完毕，案件已结案",
                "voided": "经审核不予立案，案件已作废",
                "invalid": "经核实问题不存在或信息不足，案件已作废",
                "merged": "与其他群众反映的同一问题合并处理"}

# (rank on the citizen's path, words) per task of the handling manual; internal steps map to the phase
# the citizen is waiting on.
_STEP_NOTES: dict[str, tuple[int, str]] = {
    "verify": (1, "已收到，正在现场核实您反映的问题"),
    "confirm_self_handled": (1, "已收到，正在核实"),
    "accept": (2, "已核实，正在受理"),
    "file": (2, "已受理，正在立案"),
    "dispatch": (3, "已立案，正在派遣给责任单位"),
    "approve_return": (3, "正在重新派遣给责任单位"),
    "handle": (4, "责任单位正在处置"),
    "escalate": (4, "责任单位正在处置"),
    "approve_extension": (4, "责任单位正在处置"),
    "resume": (4, "责任单位正在处置"),
    "approve_suspension": (4, "责任单位正在处置"),
    "check": (5, "责任单位已处置，正在现场核查"),
    "close": (6, "已核查通过，正在结案"),
}
_SUSPENDED = "因客观原因暂缓处置，条件具备后继续处理"
_IN_PROGRESS = "正在处理中"


def status_of(case_status: str) -> str:
    """GeoReport's two statuses."""
    return "closed" if case_status in CLOSED_STATUSES else "open"


def status_notes(case_status: str, open_steps: list[str]) -> str:
    """The note a citizen reads: the final word, or the furthest open step of the case (task spec ids)."""
    if case_status in _FINAL_NOTES:
        return _FINAL_NOTES[case_status]
    if case_status == "suspended":
        return _SUSPENDED
    known = [_STEP_NOTES[s] for s in open_steps if s in _STEP_NOTES]
    return max(known)[1] if known else _IN_PROGRESS

"""Display helpers shared by the pages: local times, deadline light labels, bilingual labels.

(Which light a task shows is the engine's rule: ``TaskItem.light_at`` / ``engine.queries.light``.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import get_locale
from flask_babel import gettext as _


def is_english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def pick(zh: str, en: str | None) -> str:
    """The English text when the UI is English and one exists, else the Chinese one."""
    return en if (en and is_english()) else zh


def light_label(value: str) -> str:
    return {"green": _("green"), "yellow": _("yellow"), "red": _("red")}.get(value, value)


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    return value.astimezone(tz).strftime(fmt)


def hours_text(hours: float) -> str:
    """Working hours as "3 h 20 min" / "3小时20分"."""
    minutes = int(round(abs(hours) * 60))
    h, m = divmod(minutes, 60)
    if h and m:
        return _("%(h)d h %(m)d min", h=h, m=m)
    if h:
        return _("%(h)d h", h=h)
    return _("%(m)d min", m=m)


def age_text(since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    h, m = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h", d=days, h=h)
    if h:
        return _("%(h)d h %(m)d min", h=h, m=m)
    return _("%(m)d min", m=m)


def remaining_text(calendar: Any, now: datetime, due_at: datetime | None, natural: bool = False) -> str:
    """Remaining working time until due_at, or how much working time it is overdue; with ``natural``
    (an emergency's deadline counts every minute) the clock time."""
    if due_at is None:
        return _("no deadline")
    if natural:
        hours = abs((due_at - now).total_seconds()) / 3600
        if now >= due_at:
            return _("overdue by %(t)s (around the clock)", t=hours_text(hours))
        return _("%(t)s left (around the clock)", t=hours_text(hours))
    hours = calendar.working_time_between(now, due_at, "workhour")
    if now >= due_at:
        return _("overdue by %(t)s working time", t=hours_text(hours))
    return _("%(t)s working time left", t=hours_text(hours))


STATUS_NAMES = {
    "open": ("处理中", "open"), "suspended": ("挂账", "suspended"), "closed": ("已结案", "closed"),
    "voided": ("已作废", "voided"), "invalid": ("无效", "invalid"), "merged": ("已合并", "merged"),
}
SOURCE_NAMES = {
    "supervisor": ("监督员上报", "supervisor"), "citizen": ("公众举报", "citizen"),
    "hotline": ("热线", "hotline"), "camera": ("视频监控", "camera"), "sensor": ("传感器", "sensor"),
    "open311": ("Open311", "Open311"),
}
URGENCY_NAMES = {"normal": ("一般", "normal"), "urgent": ("紧急", "urgent"), "emergency": ("特急", "emergency")}
KIND_NAMES = {
    "start": ("上报", "reported"), "complete": ("办理", "completed"), "timer": ("时限提醒", "deadline"),
    "message": ("督办", "supervision"), "claim": ("签收", "claimed"), "release": ("取消签收", "claim cancelled"),
    "assign": ("指派", "assigned"),
    "rating": ("评价", "rating"), "correction": ("更正", "correction"), "migration": ("流程升级", "process upgraded"),
    "erasure": ("删除个人信息", "personal data erased"),
    "merge": ("合并为重复案卷", "merged as a duplicate"), "duplicate": ("并入重复案卷", "duplicate merged in"),
    "reopen": ("重开", "reopened"),
}


TASK_NAMES_EN = {
    "verify": "Verify", "confirm_self_handled": "Confirm self-handled", "accept": "Accept", "file": "File",
    "dispatch": "Dispatch", "handle": "Handle", "escalate": "Escalate", "approve_return": "Approve return",
    "approve_extension": "Approve extension", "approve_suspension": "Approve suspension",
    "resume": "Resume handling", "check": "Check", "close": "Close", "Followup_callback": "Callback",
}
TASK_NAMES_EN["Device_check"] = "Check after the device is back to normal"  # issue 16


def task_name(spec_id: str | None, name: str | None) -> str:
    """A task's name in the UI language (BPMN names are Chinese; English for the known tasks)."""
    return pick(name or spec_id or "", TASK_NAMES_EN.get(spec_id or ""))


SYSTEM_ACTORS = ("scheduler", "system")


def person(name: str | None) -> str:
    """Who did something, in users' words: the timer and anonymous citizens get a name, not an id."""
    if not name:
        return "—"
    if name in SYSTEM_ACTORS:
        return _("System (deadline timer)")
    if name == "citizen" or name.startswith("public:"):
        return _("Citizen")
    return name


def named(table: dict[str, tuple[str, str]], value: str | None) -> str:
    if value is None:
        return ""
    zh, en = table.get(value, (value, value))
    return pick(zh, en)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["light_label"] = light_label
    app.jinja_env.filters["person"] = person
    app.jinja_env.globals.update(
        pick=pick, is_english=is_english, task_name=task_name,
        has_endpoint=lambda name: name in current_app.view_functions,
        status_name=lambda v: named(STATUS_NAMES, v), source_name=lambda v: named(SOURCE_NAMES, v),
        urgency_name=lambda v: named(URGENCY_NAMES, v), kind_name=lambda v: named(KIND_NAMES, v),
    )

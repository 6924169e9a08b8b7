"""What the replay page shows of each step, in the users' words (view models; no engine state parsing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from flask_babel import gettext as _

from engine.audit.steps import ChangeKind, Replay, ReplayStep
from engine.queries.lights import light
from web.cases.display import task_name


def role_label(role: str | None) -> str:
    names = {
        "supervisor": _("supervisor"), "acceptor": _("acceptor"), "shift_leader": _("shift leader"),
        "dispatcher": _("dispatcher"), "handler": _("department handler"), "leader": _("leader"),
        "citizen": _("citizen"), "auditor": _("auditor"), "designer": _("designer"), "admin": _("admin"),
        "system": _("system"),
    }
    return names.get(role or "", role or "")


def action_label(action: str) -> str:
    names = {"index": _("opened the audit page"), "search": _("searched cases"),
             "view_case": _("opened a case replay"), "verify": _("verified a case"),
             "export": _("downloaded an event log"), "view_log": _("opened the access log")}
    return names.get(action, action)


def value_text(value: Any) -> str:
    """A data value as short readable text (JSON for structures, no quotes around plain text)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()


@dataclass(frozen=True)
class DeadlineView:
    name: str
    role: str
    warn_at: datetime | None
    due_at: datetime | None
    light: str


@dataclass(frozen=True)
class ChangeView:
    key: str
    kind: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class StepView:
    index: int
    step: ReplayStep
    title: str
    who: str
    role: str
    summary: list[tuple[str, str]]
    changes: list[ChangeView]
    deadlines: list[DeadlineView]


# Actors that are not user accounts: the anonymous reporter and the timer scheduler.
_PSEUDO_ACTORS = {"citizen": "citizen", "reporter": "citizen", "scheduler": "system", "system": "system"}


def _who(actor: str, names: dict[str, str]) -> str:
    if actor in names:
        return names[actor]
    if actor in _PSEUDO_ACTORS:
        return role_label(_PSEUDO_ACTORS[actor])
    return actor


def _title(step: ReplayStep, kind_name: str) -> str:
    if step.task_spec:
        return task_name(step.task_spec, step.task_name)
    return kind_name


def step_views(replay: Replay, history: list[dict[str, Any]], names: dict[str, str],
               roles: dict[str, str], kind_name) -> list[StepView]:
    """One view per replayed step; ``history`` is web.cases.views.history_items (the form summaries)."""
    by_seq = {item["seq"]: item for item in history}
    change_labels = {ChangeKind.ADDED: _("added"), ChangeKind.CHANGED: _("changed"),
                     ChangeKind.REMOVED: _("removed")}
    views = []
    for index, step in enumerate(replay.steps):
        item = by_seq.get(step.seq, {})
        role = step.role or roles.get(step.actor) or ("citizen" if step.kind == "start" else "")
        if step.kind == "timer":
            role = "system"
        views.append(StepView(
            index=index, step=step, title=_title(step, kind_name(step.kind)), who=_who(step.actor, names),
            role=role_label(role), summary=item.get("summary", []),
            changes=[ChangeView(c.key, str(c.kind), change_labels[c.kind], value_text(c.before), value_text(c.after))
                     for c in step.changes],
            deadlines=[DeadlineView(task_name(t.spec_id, t.name), role_label(t.role), t.warn_at, t.due_at,
                                    str(light(t.warn_at, t.due_at, step.at))) for t in step.open_tasks]))
    return views


def markers(replay: Replay) -> list[dict[str, Any]]:
    """Per step, the bpmn ids by state — what replay.js marks on the diagram."""
    out = []
    for step in replay.steps:
        by_state: dict[str, list[str]] = {"completed": [], "active": [], "waiting": []}
        for bpmn_id, state in sorted(step.elements.items()):
            by_state[str(state)].append(bpmn_id)
        out.append({"seq": step.seq, **by_state})
    return out

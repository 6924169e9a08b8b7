"""Handlers used by case_lifecycle.bpmn: working-time deadlines, notifications, small helpers."""

from __future__ import annotations

from typing import Any

from handlers import handler
from handlers.context import service_context, task_data


@handler("is_blank", in_expressions=True)
def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@handler("step_deadline", in_expressions=True, recorded=True, reads_data=True)
def step_deadline(hours: float) -> dict[str, str]:
    """Warning (80 %) and due instants of a step limited to ``hours`` working hours from now.

    Timer expressions call it when a step starts; its result is recorded for replay. The case's
    ``calendar`` (from time_limits.dmn) decides working or natural (around the clock) hours."""
    warn_at, due_at = service_context().deadlines.step(float(hours), task_data().get("calendar"))
    return {"warn_at": warn_at.isoformat(), "due_at": due_at.isoformat()}


@handler("start_deadline", reads_data=True)
def start_deadline(limit: float, unit: str) -> dict[str, Any]:
    """A step's deadline from now: ``limit`` in ``unit`` (minute, workhour, workday) of working time,
    or of natural time when the case's ``calendar`` (time_limits.dmn) says so."""
    return service_context().deadlines.start(limit, unit, task_data().get("calendar"))


@handler("extend_deadline")
def extend_deadline(deadline: dict[str, Any], amount: float, unit: str) -> dict[str, Any]:
    """An approved extension (延期) moves the due instant by ``amount`` working ``unit``."""
    return service_context().deadlines.extend(deadline, amount, unit)


@handler("suspend_deadline")
def suspend_deadline(deadline: dict[str, Any]) -> dict[str, Any]:
    """Suspension (挂账) stops the clock and remembers the working time left."""
    return service_context().deadlines.suspend(deadline)


@handler("resume_deadline")
def resume_deadline(deadline: dict[str, Any]) -> dict[str, Any]:
    """Resumption (恢复) restarts the clock with the remaining working time."""
    return service_context().deadlines.resume(deadline)


@handler("notify", reads_data=True)
def notify(kind: str, to: str = "", text: str = "") -> dict[str, Any]:
    """Queue a message for people in the outbox; after the command commits the scheduler finds the
    people ``to`` (a role, a department) means and sends it on their channels (engine.notify).
    Steps counted around the clock (time_limits.dmn's calendar natural) are emergencies: their
    messages ignore quiet hours."""
    message: dict[str, Any] = {"kind": kind, "to": to or "", "text": text or "", "audience": "people"}
    if task_data().get("calendar") == "natural":
        message["emergency"] = True
    service_context().outbox.append(message)
    return {"queued": kind}

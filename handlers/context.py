"""What a handler may see: the engine hands it a ServiceContext for the duration of a command."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class DeadlineService(Protocol):
    """``calendar`` is time_limits.dmn's column: "natural" (around the clock) or working time."""

    def start(self, limit: float, unit: str, calendar: Any = None) -> dict[str, Any]: ...

    def extend(self, deadline: dict[str, Any], amount: float, unit: str) -> dict[str, Any]: ...

    def suspend(self, deadline: dict[str, Any]) -> dict[str, Any]: ...

    def resume(self, deadline: dict[str, Any]) -> dict[str, Any]: ...

    def step(self, hours: float, calendar: Any = None) -> tuple[datetime, datetime]:
        """(warn_at, due_at) of a step limited to ``hours`` (working) hours from now."""
        ...


@dataclass
class ServiceContext:
    deadlines: DeadlineService
    outbox: list[dict[str, Any]] = field(default_factory=list)


_current: contextvars.ContextVar[ServiceContext | None] = contextvars.ContextVar("citycase_service_ctx",
                                                                                  default=None)


def service_context() -> ServiceContext:
    ctx = _current.get()
    if ctx is None:
        raise RuntimeError("handler called outside an engine command")
    return ctx


_data: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar("citycase_task_data",
                                                                                default=None)


def task_data() -> Mapping[str, Any]:
    """The data of the task whose service or expression called the handler (read only; empty outside)."""
    return _data.get() or {}


@contextmanager
def using_task_data(data: Mapping[str, Any]) -> Iterator[None]:
    """The engine hands a calling task's data to handlers that need more than their arguments
    (a deadline's calendar comes from time_limits.dmn, not from each BPMN call site)."""
    token = _data.set(data)
    try:
        yield
    finally:
        _data.reset(token)


@contextmanager
def using_service_context(ctx: ServiceContext) -> Iterator[ServiceContext]:
    """Hand ``ctx`` to the handlers called inside the ``with`` block (the engine does, per command)."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)

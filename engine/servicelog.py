"""Recording of calls whose results depend on the world (calendar, clock): replay feeds them back.

Service tasks and the few expression functions marked ``recorded`` (deadline instants used by
timer expressions) append their results here during a command; the list is stored in the
command's history event. On replay the same calls, in the same order, get the recorded results.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from engine.scoped import scoped


class ServiceLog:
    def __init__(self, recorded: list[dict[str, Any]] | None = None) -> None:
        self.replaying = recorded is not None
        self.calls: list[dict[str, Any]] = list(recorded or [])
        self._next = 0

    def record(self, operation: str, result: Any) -> None:
        self.calls.append({"op": operation, "result": result})

    def replay(self, operation: str) -> Any:
        if self._next >= len(self.calls):
            raise RuntimeError(f"replay diverged: no recorded result for {operation!r}")
        call = self.calls[self._next]
        self._next += 1
        if call["op"] != operation:
            raise RuntimeError(f"replay diverged: expected {call['op']!r}, got {operation!r}")
        return call["result"]


_log: contextvars.ContextVar[ServiceLog | None] = contextvars.ContextVar("citycase_service_log", default=None)


def current_log() -> ServiceLog | None:
    return _log.get()


def using_service_log(log: ServiceLog):
    return scoped(_log, log)


def recorded_call(name: str, func, *args: Any, **kwargs: Any) -> Any:
    log = _log.get()
    if log is None:
        return func(*args, **kwargs)
    if log.replaying:
        return log.replay(name)
    result = func(*args, **kwargs)
    log.record(name, result)
    return result


def expression_functions() -> dict[str, Callable[..., Any]]:
    """The handlers that gateway conditions, DMN cells and scripts may call, by name.

    Registered from the engine side: handlers whose result depends on the world (``recorded``)
    are wrapped so that their results go through the service log and replay identically."""
    from handlers import REGISTRY, load_all

    load_all()
    functions: dict[str, Callable[..., Any]] = {}
    for name, spec in REGISTRY.items():
        if not spec.in_expressions:
            continue
        if spec.recorded:
            def call(*args: Any, _name: str = name, _func: Callable[..., Any] = spec.func, **kwargs: Any) -> Any:
                return recorded_call(_name, _func, *args, **kwargs)

            functions[name] = call
        else:
            functions[name] = spec.func
    return functions

"""Named functions that BPMN service tasks and expressions may call.

Handlers are pure with respect to the outside world: they read their arguments and the
``ServiceContext`` the engine hands them, and express external effects as outbox messages.
Only functions registered here are reachable from a BPMN or DMN file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HandlerSpec:
    name: str
    func: Callable[..., Any]
    in_expressions: bool  # may be called from gateway conditions / DMN cells / scripts


REGISTRY: dict[str, HandlerSpec] = {}


def handler(name: str, *, in_expressions: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"handler {name!r} registered twice")
        REGISTRY[name] = HandlerSpec(name, func, in_expressions)
        return func

    return register


def expression_functions() -> dict[str, Callable[..., Any]]:
    load_all()
    return {name: spec.func for name, spec in REGISTRY.items() if spec.in_expressions}


def load_all() -> None:
    """Import the handler modules so that their registrations run."""
    from handlers import case_handlers  # noqa: F401

"""Named functions that BPMN service tasks and expressions may call.

Handlers are pure with respect to the outside world: they read their arguments and the
``ServiceContext`` the engine hands them, and express external effects as outbox messages.
Only functions registered here are reachable from a BPMN or DMN file. The engine reads
``REGISTRY`` (service tasks, and expressions for the ``in_expressions`` ones); handlers never
import the engine: what they may see of a command comes in through ``handlers.context``.
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
    recorded: bool = False  # result depends on the world (clock, calendar): recorded for replay
    reads_data: bool = False  # reads the calling task's data (handlers.context.task_data)


REGISTRY: dict[str, HandlerSpec] = {}


def handler(name: str, *, in_expressions: bool = False,
            recorded: bool = False, reads_data: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"handler {name!r} registered twice")
        REGISTRY[name] = HandlerSpec(name, func, in_expressions, recorded, reads_data)
        return func

    return register


def load_all() -> None:
    """Import the handler modules so that their registrations run."""
    from handlers import case_handlers  # noqa: F401

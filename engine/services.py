"""The script engine SpiffWorkflow runs with, and the engine's own ``call_service``.

Service tasks call functions registered in ``handlers`` by name. Each call's result is
recorded in the command's history event; replay feeds the recorded results back instead of
calling again, so a case replays identically even after the calendar or a handler changed,
and no side effect is produced twice.
"""

from __future__ import annotations

import ast
from functools import lru_cache

import orjson
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from engine import spiff_patches
from engine.expressions import SafeEnvironment
from engine.servicelog import current_log
from handlers.context import using_task_data


@lru_cache(maxsize=4096)
def _syntax_check(expression: str) -> None:
    ast.parse(expression)


class CityCaseScriptEngine(PythonScriptEngine):
    def __init__(self) -> None:
        super().__init__(environment=SafeEnvironment())

    def validate(self, expression):
        # The DMN engine validates every cell on every evaluation; parse each text once.
        _syntax_check(expression)

    def call_service(self, task, operation_name=None, operation_params=None, **_):
        from handlers import REGISTRY

        log = current_log()
        if log is None:
            raise WorkflowTaskException("service tasks run only inside an engine command", task=task)
        if log.replaying:
            return orjson.dumps(log.replay(operation_name)).decode()
        spec = REGISTRY.get(operation_name)
        if spec is None:
            raise WorkflowTaskException(f"service {operation_name!r} is not a registered handler", task=task)
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        try:
            with using_task_data(task.data):
                result = spec.func(**params)
            encoded = orjson.dumps(result)
        except Exception as exc:
            # SpiffWorkflow 3.2.0's own error path references an undefined name; ours names the task.
            raise WorkflowTaskException(f"service {operation_name!r} failed: {exc}", task=task,
                                        exception=exc) from exc
        log.record(operation_name, orjson.loads(encoded))
        return encoded.decode()


# Every path that runs SpiffWorkflow (commands, replay, read side) uses this module's engine.
spiff_patches.apply()
SCRIPT_ENGINE = CityCaseScriptEngine()

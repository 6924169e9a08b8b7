"""Workflow state without the spec.

SpiffWorkflow's serializer writes the whole spec into every state (most of the bytes and a
quarter of the time). citycase stores only the instance; on load the spec is re-attached
from the in-memory definition cache. orjson does the JSON work.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import orjson
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

STATE_FORMAT = "citycase-1"


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        from uuid import UUID

        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = SpeclessWorkflowConverter
_registry = BpmnWorkflowSerializer.configure(_config)
# The instance that restores workflows (constructing it re-registers the same converter).
_workflow_converter = SpeclessWorkflowConverter(BpmnWorkflow, _registry)


def _default(obj: Any) -> Any:
    typename = _registry.typenames.get(type(obj))
    if typename is not None:
        return _registry.convert_to_dict[typename](obj)
    if callable(obj) or isinstance(obj, ModuleType):
        return None
    if isinstance(obj, set):
        return sorted(obj)
    raise TypeError(f"{type(obj).__name__} values cannot be stored in case data; keep data JSON-native")


def dump_state_reference(workflow: BpmnWorkflow, id_counter: int) -> bytes:
    """SpiffWorkflow's own converters (spec excluded): the reference ``dump_state`` must equal."""
    _registry._encoder_mode = True
    try:
        dct = _registry.convert(workflow)
    finally:
        _registry._encoder_mode = False
    dct["citycase"] = {"format": STATE_FORMAT, "ids": id_counter}
    return orjson.dumps(dct, default=_default)


_TYPENAMES = _registry.typenames


def _tasks_dict(tasks: dict[Any, Any]) -> dict[str, Any]:
    """The converters' task dictionaries, built in one loop (the converters recurse per value and
    stringify every uuid three times; this was a fifth of a command's time)."""
    names = {tid: str(tid) for tid in tasks}
    out: dict[str, Any] = {}
    for tid, task in tasks.items():
        parent_id = task._parent
        parent = tasks.get(parent_id) if parent_id is not None else None
        if parent_id is None:
            data, delta = task.data, {}  # type: dict[str, Any], dict[str, Any]
        else:
            pdata = parent.data if parent is not None else task.parent.data
            tdata = task.data
            data = {}
            if tdata == pdata:
                delta = {"updates": {}, "deletions": []}
            else:
                delta = {"updates": {k: v for k, v in tdata.items() if k not in pdata or pdata[k] != v},
                         "deletions": [k for k in pdata if k not in tdata]}
        out[names[tid]] = {
            "id": names[tid],
            "parent": (names.get(parent_id) or str(parent_id)) if parent_id is not None else None,
            "children": [names.get(c) or str(c) for c in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": task.internal_data,
            "data": data,
            "delta": delta,
            "typename": _TYPENAMES[type(task)],
        }
    return out


def _workflow_dict(workflow: Any) -> dict[str, Any]:
    return {
        "data": _registry.clean(workflow.data),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": _tasks_dict(workflow.tasks),
        "root": str(workflow.task_tree.id),
    }


def dump_state(workflow: BpmnWorkflow, id_counter: int) -> bytes:
    """The workflow instance without its spec, as orjson bytes."""
    dct = _workflow_dict(workflow)
    subprocesses = {}
    for key, sub in workflow.subprocesses.items():
        sd = _workflow_dict(sub)
        sd.update(parent_task_id=str(sub.parent_task_id), spec=sub.spec.name, typename=_TYPENAMES[type(sub)])
        subprocesses[str(key)] = sd
    dct["subprocesses"] = subprocesses
    _registry._encoder_mode = True
    try:
        dct["bpmn_events"] = _registry.convert(workflow.bpmn_events)
    finally:
        _registry._encoder_mode = False
    dct["typename"] = _TYPENAMES[type(workflow)]
    dct["citycase"] = {"format": STATE_FORMAT, "ids": id_counter}
    return orjson.dumps(dct, default=_default)


def load_state(blob: bytes, spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> tuple[BpmnWorkflow, int]:
    dct = orjson.loads(blob)
    meta = dct.pop("citycase", {})
    if meta.get("format") != STATE_FORMAT:
        raise ValueError(f"unknown case state format {meta.get('format')!r}")
    dct.pop("typename", None)
    workflow = _workflow_converter.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow, int(meta.get("ids", 0))

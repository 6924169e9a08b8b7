"""Names and roles of a definition's activities, as the export shows them.

History events carry bpmn ids only (``task_spec``; for timers the fired task ids). Names and
lanes come from the deployed definition version the case ran on (engine.definitions), the
same source as the case page's history. The role is the lane's role (ROLES_BY_LANE); a
boundary timer takes the lane and name of the task it is attached to ("处置 预警 80%"),
because every timer of the manual is called "预警 80%" or "超时 100%".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from engine.definitions import DEPARTMENT_LANES, ROLES_BY_LANE, LoadedDefinition

# SpiffWorkflow names the hidden split in front of a task with boundary events "<task>.BoundaryEventSplit".
_BOUNDARY_SPLIT = ".BoundaryEventSplit"


@dataclass(frozen=True)
class Activity:
    bpmn_id: str
    name: str
    role: str | None
    department_lane: bool  # the task belongs to the case's responsible department


class Activities:
    """Lookup of one definition's activities by bpmn id, start event and message name."""

    def __init__(self, definition: LoadedDefinition) -> None:
        self._by_id: dict[str, Activity] = {}
        self._messages: dict[str, Activity] = {}
        self.start: Activity = Activity("start", "start", None, False)
        specs = [definition.spec, *definition.subprocess_specs.values()]
        for proc in specs:
            for ts in proc.task_specs.values():
                if getattr(ts, "bpmn_id", None):
                    self._by_id[ts.bpmn_id] = self._activity(ts)
        for proc in specs:
            for ts in proc.task_specs.values():
                self._index_event(ts, proc is definition.spec)

    @staticmethod
    def _activity(ts: Any) -> Activity:
        lane = getattr(ts, "lane", None) or ""
        return Activity(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, ROLES_BY_LANE.get(lane), lane in DEPARTMENT_LANES)

    def _index_event(self, ts: Any, top_level: bool) -> None:
        event_def = getattr(ts, "event_definition", None)
        if event_def is None or not getattr(ts, "bpmn_id", None):
            return
        if top_level and isinstance(ts, StartEvent) and isinstance(event_def, NoneEventDefinition):
            # The process's plain start event: the report. Reporters have no lane role.
            self.start = Activity(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, None, False)
        elif isinstance(event_def, MessageEventDefinition) and event_def.name:
            self._messages[event_def.name] = self._by_id[ts.bpmn_id]
        elif isinstance(event_def, TimerEventDefinition):
            host = next((i.name[: -len(_BOUNDARY_SPLIT)] for i in ts.inputs if i.name.endswith(_BOUNDARY_SPLIT)),
                        None)
            own = self._by_id[ts.bpmn_id]
            attached = self._by_id.get(host) if host else None
            if attached is not None:
                self._by_id[ts.bpmn_id] = Activity(ts.bpmn_id, f"{attached.name} {own.name}", attached.role,
                                                   attached.department_lane)

    def task(self, bpmn_id: str | None) -> Activity:
        if bpmn_id and bpmn_id in self._by_id:
            return self._by_id[bpmn_id]
        return Activity(bpmn_id or "unknown", bpmn_id or "unknown", None, False)

    def message(self, name: str | None) -> Activity:
        if name and name in self._messages:
            return self._messages[name]
        return Activity(name or "message", name or "message", None, False)

"""Make SpiffWorkflow read citycase's injected clock and id source.

SpiffWorkflow compares timers with ``datetime.now()`` inside its timer module, stamps tasks
with ``time.time()`` and names them with ``uuid4()``. For replay to reproduce a case's state
exactly and for the simulator to move time, all three must come from the engine:
* ``datetime`` in the timer module becomes a subclass whose ``now()`` reads ``current_clock()``;
* ``time`` in the task module becomes a shim whose ``time()`` reads the same clock;
* ``uuid4`` in the task module draws from the current case's deterministic id sequence
  (``engine.ids``) while a command runs, and falls back to random ids otherwise.
Applied once, on import of ``engine.commands``.
"""

from __future__ import annotations

import uuid
from datetime import datetime as _datetime

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer
import SpiffWorkflow.task as _task
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine.clock import current_clock
from engine.ids import next_task_id


class ClockedDatetime(_datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        now = current_clock().now()
        return now.astimezone(tz) if tz is not None else now.astimezone().replace(tzinfo=None)


class _ClockedTime:
    @staticmethod
    def time() -> float:
        return current_clock().now().timestamp()


def _task_uuid() -> uuid.UUID:
    return next_task_id() or uuid.uuid4()


# --- task tree iteration ------------------------------------------------------------------------
# SpiffWorkflow walks the whole task tree several times per engine step with an iterator that
# pops from the front of a list, builds each node's child list through a property and keeps a
# depth count by walking parents back up. That walk was most of a command's time. When no depth
# limit is asked for (max_depth 1000, the default: deeper trees do not occur) the replacement
# visits the same tasks in the same depth-first order with a stack; otherwise the original runs.

_UNLIMITED = 1000
_original_iter_next = TaskIterator.__next__
_FINISHED = TaskState.FINISHED_MASK


def _fast_iter_next(self):
    """``TaskIterator.__next__`` for unlimited depth-first walks: same tasks, same order."""
    if self.max_depth < _UNLIMITED or not self.depth_first:
        return _original_iter_next(self)
    stack = self.__dict__.get("_stack")
    if stack is None:
        stack = self._stack = self.task_list[::-1]
        self.task_list = None
    matches = self.task_filter.matches
    min_state, end_at = self.min_state, self.end_at_spec
    bpmn = isinstance(self, BpmnTaskIterator)
    while stack:
        task = stack.pop()
        if bpmn:
            subprocess = task.workflow.top_workflow.subprocesses.get(task.id)
            if (task._children or subprocess is not None) and \
                    (task.state >= min_state or subprocess is not None) and task.task_spec.name != end_at:
                get = task.workflow.tasks.get
                stack.extend([get(c) for c in reversed(task._children)])
                if subprocess is not None and not self.skip_subprocesses and not (
                        task.state >= _FINISHED and self.task_filter.state <= _FINISHED):
                    stack.append(subprocess.task_tree)
        elif task._children and task.state >= min_state and task.task_spec.name != end_at:
            get = task.workflow.tasks.get
            stack.extend([get(c) for c in reversed(task._children)])
        if matches(task):
            return task
    raise StopIteration()


_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    _timer.datetime = ClockedDatetime
    _task.time = _ClockedTime
    _task.uuid4 = _task_uuid
    TaskIterator.__next__ = _fast_iter_next
    _applied = True

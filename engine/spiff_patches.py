"""Every change citycase makes to SpiffWorkflow's own code, applied once, for SpiffWorkflow 3.2.0 only.

Each patch replaces a SpiffWorkflow module attribute or method; each is named below with the
SpiffWorkflow behaviour it changes and is tested in tests/engine/test_spiff_patches.py:

1. clock — ``SpiffWorkflow.bpmn.specs.event_definitions.timer`` compares timers with
   ``datetime.now()`` and ``SpiffWorkflow.task`` stamps tasks with ``time.time()``: both read the
   engine's injected clock (``engine.clock.current_clock``) instead, so replay reproduces a
   case's state exactly and the simulator can move time;
2. task ids — ``SpiffWorkflow.task`` names tasks with ``uuid4()``: while a command runs they
   come from the case's deterministic id sequence (``engine.ids``), random ids otherwise;
3. task-tree walks — ``SpiffWorkflow.util.task.TaskIterator.__next__`` walks depth-first with a
   list popped from the front: replaced by a stack walk visiting the same tasks in the same order;
4. DMN FIRST hit policy — ``SpiffWorkflow.dmn.engine.DMNEngine.DMNEngine.decide`` evaluates every
   rule even under FIRST: ours stops at the first matching rule (UNIQUE and FIRST).

They reach into private names, so a SpiffWorkflow release other than the tested ones is
refused (``check_version``) instead of misbehaving quietly. ``apply()`` runs when
engine.services (the script engine every SpiffWorkflow run uses) is imported.
"""

from __future__ import annotations

import uuid
from datetime import datetime as _datetime
from importlib.metadata import version

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer
import SpiffWorkflow.task as _task
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine.clock import current_clock
from engine.ids import next_task_id

#: SpiffWorkflow releases the patches below were written for and tested against.
TESTED_VERSIONS = frozenset({"3.2.0"})


def check_version(installed: str | None = None) -> None:
    """Refuse to patch a SpiffWorkflow release the patches were not tested on."""
    installed = installed or version("SpiffWorkflow")
    if installed not in TESTED_VERSIONS:
        raise RuntimeError(
            f"SpiffWorkflow {installed} is installed, but citycase's patches of its internals "
            f"(engine/spiff_patches.py) are tested only on {', '.join(sorted(TESTED_VERSIONS))}: "
            "install SpiffWorkflow==3.2.0, or run tests/engine/test_spiff_patches.py and the "
            "engine tests against the new release and add it to TESTED_VERSIONS")


# --- 1. clock -------------------------------------------------------------------------------------

class ClockedDatetime(_datetime):
    @classmethod
    def now(cls, tz=None):
        now = current_clock().now()
        return now.astimezone(tz) if tz is not None else now.astimezone().replace(tzinfo=None)


class _ClockedTime:
    @staticmethod
    def time() -> float:
        return current_clock().now().timestamp()


# --- 2. task ids ---------------------------------------------------------------------------------

def _task_uuid() -> uuid.UUID:
    return next_task_id() or uuid.uuid4()


# --- 3. task-tree walks --------------------------------------------------------------------------
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


# --- 4. DMN FIRST hit policy ----------------------------------------------------------------------

def _decide_first_hit(self, task):
    """``DMNEngine.decide`` that stops at the first matching rule under UNIQUE and FIRST."""
    rules = []
    for rule in self.decision_table.rules:
        if self._DMNEngine__check_rule(rule, task):  # SpiffWorkflow's name-mangled private method
            rules.append(rule)
            if self.decision_table.hit_policy in ("UNIQUE", "FIRST"):
                break
    return rules


_applied = False


def apply() -> None:
    """Apply every patch above, once per process (later calls do nothing)."""
    global _applied
    if _applied:
        return
    check_version()
    _timer.datetime = ClockedDatetime
    _task.time = _ClockedTime
    _task.uuid4 = _task_uuid
    TaskIterator.__next__ = _fast_iter_next
    DMNEngine.decide = _decide_first_hit
    _applied = True

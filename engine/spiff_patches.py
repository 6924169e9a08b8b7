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
   rule even under FIRST: ours stops at the first matching rule (UNIQUE and FIRST);
5. task lookups by state — ``SpiffWorkflow.workflow.Workflow.get_tasks`` (every engine step asks
   for the READY tasks) and ``Workflow.update_waiting_tasks`` (run after every task completes)
   walk the whole task tree: when at most one task has the asked state they find it in one pass
   over the workflow's task dictionary instead, and otherwise walk as before;
6. state-change logging — ``SpiffWorkflow.task.Task._set_state`` builds a log-extras dictionary
   for every state change even when its logger discards the record: built only when logged.

They reach into private names, so a SpiffWorkflow release other than the tested ones is
refused (``check_version``) instead of misbehaving quietly. ``apply()`` runs when
engine.services (the script engine every SpiffWorkflow run uses) is imported.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime as _datetime
from importlib.metadata import version

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer
import SpiffWorkflow.task as _task
from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.util.task import TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

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


# --- 5. task lookups by state ---------------------------------------------------------------------
# A case's tree keeps every task it ever had (30–70 on the lifecycle), and an engine step asks
# "which tasks are READY / WAITING" a dozen times; the answer is nearly always none, one or two
# tasks. One pass over the flat task dictionaries (no uuid hashing, no call per task) finds the
# candidates; each candidate's ancestors are then checked as the walk would (it does not descend
# below predicted tasks when asked for definite states) and, when there are several, they are
# put in the walk's depth-first order by their paths from the root. Nested subprocesses, task
# filters other than the plain ones and lookups from another task than the root are left to
# the walk.

_original_get_tasks = Workflow.get_tasks
_original_update_waiting = Workflow.update_waiting_tasks
_original_do_engine_steps = BpmnWorkflow._do_engine_steps
_PREDICTED = TaskState.PREDICTED_MASK
_DEFINITE = TaskState.DEFINITE_MASK
_READY = TaskState.READY
_WAITING = TaskState.WAITING
_FUTURE = TaskState.FUTURE
_MAX_SORTED = 4
_STATE_ONLY = frozenset({"state"})
_FILTER_KEYS = frozenset({"state", "manual", "spec_name", "spec_class", "updated_ts", "lane", "catches_event"})


def _min_state(state: int) -> int | None:
    """The lowest state the walk descends from for a state filter (util.task.TaskIterator)."""
    if state & _PREDICTED:
        return TaskState.MAYBE
    if state & _DEFINITE:
        return _FUTURE
    return None  # finished-only walks: left to the walk


def _path(task, tasks, min_state: int) -> tuple[int, ...] | None:
    """Child positions from the root down to ``task`` (its depth-first rank), or None when the walk
    would not reach it (an ancestor below ``min_state``)."""
    path = []
    parent_id = task._parent
    while parent_id is not None:
        parent = tasks[parent_id]
        if parent._state < min_state:
            return None
        path.append(parent._children.index(task.id))
        task, parent_id = parent, parent._parent
    return tuple(reversed(path))


def _in_walk_order(found: list, tasks, min_state: int) -> list | None:
    if len(found) == 1:
        # One task needs no order, only the walk's reach. SpiffWorkflow never adds a definite
        # child under a predicted task (Task._add_child refuses) and re-predicting a task re-predicts
        # its unfinished children, so checking the parent is checking the whole line of ancestors.
        parent = tasks.get(found[0]._parent)
        return found if parent is None or parent._state >= min_state else None
    keyed = []
    for task in found:
        path = _path(task, tasks, min_state)
        if path is None:
            return None
        keyed.append((path, task))
    keyed.sort(key=lambda kt: kt[0])
    return [task for _, task in keyed]


def _flat_candidates(workflow, state: int, subprocesses: bool) -> list | None:
    """The tasks of ``workflow`` in ``state`` (a mask) that the walk from its root visits, in the
    walk's order, or None when the walk must decide. With ``subprocesses`` (BpmnTaskIterator) the
    tasks of subprocesses started by this workflow's tasks count too: the walk visits a subprocess
    before the children of the task that started it."""
    min_state = _min_state(state)
    if min_state is None:
        return None
    tasks = workflow.tasks
    found = [t for t in tasks.values() if t._state & state]
    if len(found) > _MAX_SORTED:
        return None  # ranking many tasks by their paths costs more than the walk
    subs = getattr(workflow, "top_workflow", None)
    subs = subs.subprocesses if subs is not None and subprocesses else {}
    if not subs:
        return _in_walk_order(found, tasks, min_state) if found else found
    inner: list = []
    for parent_id, sub in subs.items():
        owner = tasks.get(parent_id)
        if owner is None:
            if sub is not workflow and sub.parent_workflow is workflow:
                return None  # started by a task of this workflow's subprocess: nested
            continue
        if owner._state >= TaskState.FINISHED_MASK and state <= TaskState.FINISHED_MASK:
            continue  # the walk does not look for unfinished tasks in a finished subprocess
        sub_found = [t for t in sub.tasks.values() if t._state & state]
        if sub_found:
            owner_path = _path(owner, tasks, min_state)
            if owner_path is None or any(t.id in subs for t in sub.tasks.values()):
                return None
            ordered = _in_walk_order(sub_found, sub.tasks, min_state)
            if ordered is None:
                return None
            # Inside the subprocess comes before the owner's children: rank it as child -1.
            inner.extend(((owner_path, -1, i), t) for i, t in enumerate(ordered))
    if not inner:
        return _in_walk_order(found, tasks, min_state) if found else found
    keyed = list(inner)
    for task in found:
        path = _path(task, tasks, min_state)
        if path is None:
            return None
        keyed.append(((path[:-1], path[-1], 0) if path else ((), -2, 0), task))
    # Ranks compare as (owner path, position under it): a prefix relation between paths means an
    # ancestor, which the walk visits first; fall back to the walk on anything subtler.
    if len(keyed) > 1:
        return None
    return [task for _, task in keyed]


def _fast_get_tasks(self, first_task=None, **kwargs):
    """``Workflow.get_tasks`` from the root without walking the tree (same tasks, same order)."""
    if first_task is None and kwargs.keys() <= _FILTER_KEYS:
        candidates = _flat_candidates(self, kwargs.get("state", TaskState.ANY_MASK),
                                      isinstance(self, BpmnBaseWorkflow))
        if candidates is not None:
            if not candidates or kwargs.keys() <= _STATE_ONLY:
                return candidates  # the candidates are exactly the tasks in that state
            task_filter = self.get_tasks_iterator(None, **kwargs).task_filter
            return [t for t in candidates if task_filter.matches(t)]
    return _original_get_tasks(self, first_task, **kwargs)


def _ready_automatic(workflow) -> list:
    """What ``BpmnWorkflow._do_engine_steps`` runs: the READY tasks that are not manual, in walk order."""
    found = _fast_get_tasks(workflow, state=_READY)
    return [t for t in found if not t.task_spec.manual]


def _do_engine_steps(self, will_complete_task=None, did_complete_task=None):
    """``BpmnWorkflow._do_engine_steps`` (SpiffWorkflow 3.2.0's code, its private closure included)
    finding its READY tasks with ``_fast_get_tasks`` instead of a tree walk per round."""

    def update_workflow(wf):
        count = 0
        for task in _ready_automatic(wf):
            if will_complete_task is not None:
                will_complete_task(task)
            task.run()
            count += 1
            if did_complete_task is not None:
                did_complete_task(task)
        return count

    active_subprocesses = self.get_active_subprocesses()
    for subprocess in sorted(active_subprocesses, key=lambda v: v.depth, reverse=True):
        count = None
        while count is None or count > 0:
            count = update_workflow(subprocess)
        if subprocess.parent_task_id is not None:
            task = self.get_task_from_id(subprocess.parent_task_id)
            task.task_spec._update(task)

    count = update_workflow(self)
    return count > 0 or len(self.get_active_subprocesses()) > len(active_subprocesses)


def _fast_update_waiting_tasks(self):
    """``Workflow.update_waiting_tasks`` (a lazy walk updating each WAITING task) without the walk."""
    candidates = _flat_candidates(self, _WAITING, subprocesses=False)
    if candidates is None:
        return _original_update_waiting(self)
    for task in candidates:
        # The walk checks each task's state when it reaches it: an earlier update may have moved it.
        if task._state == _WAITING and task.id in self.tasks:
            task.task_spec._update(task)
    # The walk would also update a task that started WAITING during these updates if it comes
    # later in its order. Not seen on the lifecycle; handled anyway.
    seen = {t.id for t in candidates}
    new = [t for t in self.tasks.values() if t._state == _WAITING and t.id not in seen]
    if new and candidates:
        order = {t.id: i for i, t in enumerate(TaskIterator(self.task_tree))}
        first = order.get(candidates[0].id, -1)
        for other in sorted((t for t in new if order.get(t.id, -1) > first), key=lambda t: order[t.id]):
            if other._state == _WAITING:
                other.task_spec._update(other)
    return None


# --- 6. state-change logging ------------------------------------------------------------------------

_task_logger = logging.getLogger("spiff.task")


def _set_state(self, value: int) -> None:
    """``Task._set_state`` building its log record's extras only when the record is logged."""
    if value != self._state:
        now = _task.time.time()
        elapsed = now - self.last_state_change
        self.last_state_change = now
        self._state = value
        if _task_logger.isEnabledFor(logging.INFO):
            _task_logger.info(f"State changed to {TaskState.get_name(value)}",
                              extra=self.collect_log_extras({"elapsed": elapsed}))
    elif _task_logger.isEnabledFor(logging.DEBUG):
        _task_logger.debug(f"State set to {TaskState.get_name(value)}", extra=self.collect_log_extras())


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
    Workflow.get_tasks = _fast_get_tasks
    BpmnWorkflow._do_engine_steps = _do_engine_steps
    Workflow.update_waiting_tasks = _fast_update_waiting_tasks
    _task.Task._set_state = _set_state
    _applied = True

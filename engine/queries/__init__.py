"""The read side of the engine: what pages, the JSON API and the CLI show, never a write.

Modules: ``visibility`` (the one rule of who sees which task and case), ``cursor`` (the one keyset
cursor format), ``lights`` (deadline lights), ``records`` (the typed rows returned), ``tasks``
(task_view, visible_tasks), ``cases`` (case_view, case_history), ``search`` (search_cases),
``periods`` (local days as instants), ``decisions`` (decision_context: the request an approval or
check task decides and the earlier rounds), ``marks`` (催办/督办 marks on inbox rows), ``similar``
(possible duplicates of a report being typed), ``public`` (the reporter's follow-up view) and
``process_data`` (task_data, case_data: process variables read from the stored workflow state;
not re-exported here so that importing the visibility rule does not load the workflow engine's
serializer). Every function takes the caller's session and never commits.
"""

from engine.queries.cases import CaseView, case_history, case_view, find_case, load_case
from engine.queries.cursor import Cursor, decode_cursor, parse_cursor
from engine.queries.lights import light, light_conditions
from engine.queries.periods import local_days
from engine.queries.records import CaseRecord, HistoryEvent, TaskItem
from engine.queries.search import CaseFilters, CasePage, search_cases
from engine.queries.tasks import (
    Tab,
    TaskFilters,
    TaskPage,
    TaskView,
    case_tasks,
    find_task,
    task_view,
    visible_tasks,
)
from engine.queries.visibility import (
    case_visibility_filter,
    check_case_visible,
    check_task_permission,
    check_task_visible,
    may_act_on_task,
    may_see_case,
    may_supervise,
    task_visibility_filter,
    task_visible,
)

__all__ = [
    "CaseView", "case_history", "case_view", "find_case", "load_case", "Cursor", "decode_cursor", "parse_cursor",
    "light", "light_conditions", "local_days", "CaseRecord", "HistoryEvent", "TaskItem",
    "CaseFilters", "CasePage", "search_cases", "Tab", "TaskFilters", "TaskPage", "TaskView", "case_tasks",
    "find_task", "task_view", "visible_tasks", "case_visibility_filter", "check_case_visible",
    "check_task_permission", "check_task_visible", "may_act_on_task", "may_see_case", "may_supervise",
    "task_visibility_filter", "task_visible",
]

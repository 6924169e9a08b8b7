"""The read side of the engine: what pages, the JSON API and the CLI show, never a write.

Modules: ``visibility`` (the one rule of who sees which task and case), ``cursor`` (the one keyset
cursor format), ``lights`` (deadline lights), ``tasks`` (task_view, visible_tasks, task_data),
``cases`` (case_view, case_history), ``search`` (search_cases). Every function takes the caller's
session and never commits.
"""

"""Who may see which task and which case: the one visibility rule of citycase.

Pages, the JSON API, the inbox queries and every command ask here. Each rule is written once as
a *scope* (a small value object) and read two ways: as a Python check on a row already loaded
(``check_task_visible``, ``may_see_case``) and as an SQL condition for listings
(``task_visibility_filter``, ``case_visibility_filter``), so a listing never shows what a detail
page would refuse and the other way round.

Tasks: the task's role must be the actor's; tasks of the department lanes (handlers, leaders)
belong to one department and only its staff see them; supervisors tied to a district see only
that district's tasks. Only department-lane tasks carry a department (the engine sets it from the
dispatch), so the department part applies to those roles alone — which also keeps the inbox on
its (role, department_code, due_at, id) index.

Cases: the centre's roles (acceptor, shift leader, dispatcher), auditors and admins see every
case; a leader sees every case unless tied to a department, then that department's; a handler
only their department's; a supervisor their district's (all when not tied to one); anyone else
(designers, citizens, the system) none through these pages.

Sub-centers (issue 15: "one city platform, 6 district sub-centers"): an acceptor, shift leader or
dispatcher with a ``district_code`` works at that district's sub-center and sees only its tasks
and cases; one without (None) works at the city centre, which sees everything and may take over
a claimed task (``claim(..., take_over=True)``).
A task of these roles whose case has crossed districts (its department belongs to another
district) goes up to the city: its row carries ``CITY_CENTER`` as district (``task_district``),
which no sub-center matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, true

from engine.errors import Forbidden
from engine.model import DEPARTMENT_ROLES, OPEN_STATUSES, Actor, Role
from engine.models import Case, TaskRow

# Supervisors tied to a district see only its tasks and cases.
DISTRICT_ROLES = frozenset({Role.SUPERVISOR})
# The centre's roles: at a district sub-center when tied to a district, else at the city centre.
SUB_CENTER_ROLES = frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER, Role.DISPATCHER})
# The district a task row carries once its case went up to the city (no sub-center has it).
CITY_CENTER = ""
# Roles that see every case (a leader only when not tied to one department, see case_scope).
ALL_CASES_ROLES = frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER, Role.DISPATCHER, Role.AUDITOR, Role.ADMIN})


# --- tasks ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskScope:
    """The task rows an actor may see: ``role``; ``department`` when ``by_department`` (None means
    tasks without a department); ``district`` unless it is None (any district)."""

    role: str
    by_department: bool
    department: str | None
    district: str | None

    def why_not(self, row: Any) -> str | None:
        """None when ``row`` (anything with role, department_code, district_code, name, spec_id)
        is in scope, else the reason for the refusal."""
        if row.role != self.role:
            return f"task {row.name} ({row.spec_id}) is for role {row.role}, you are {self.role}"
        if self.by_department and row.department_code != self.department:
            return f"task {row.name} belongs to department {row.department_code}"
        if self.district is not None and row.district_code != self.district:
            return f"task {row.name} is in district {row.district_code}, outside your area"
        return None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [TaskRow.role == self.role]
        if self.by_department:
            conds.append(TaskRow.department_code == self.department if self.department is not None
                         else TaskRow.department_code.is_(None))
        if self.district is not None:
            conds.append(TaskRow.district_code == self.district)
        return conds


def task_scope(actor: Actor) -> TaskScope:
    return TaskScope(
        role=actor.role,
        by_department=actor.role in DEPARTMENT_ROLES,
        department=actor.department_code,
        district=actor.district_code if actor.role in DISTRICT_ROLES | SUB_CENTER_ROLES else None,
    )


def sub_center(actor: Actor) -> str | None:
    """The district whose sub-center the actor works at (leaders not tied to a department too);
    None: the city centre, or a role not organised by sub-center."""
    if actor.role in SUB_CENTER_ROLES or (actor.role == Role.LEADER and not actor.department_code):
        return actor.district_code or None
    return None


def task_district(role: str, case_district: str, department_district: str | None) -> str:
    """The district a new task row carries: the case's, except that a sub-center task of a case
    handled by another district's department goes up to the city centre (cases crossing districts)."""
    if role in SUB_CENTER_ROLES and department_district is not None and department_district != case_district:
        return CITY_CENTER
    return case_district


def task_visible(actor: Actor, row: Any) -> bool:
    return task_scope(actor).why_not(row) is None


def check_task_visible(actor: Actor, row: Any) -> None:
    """Raise Forbidden unless the actor may see the task (role, department, district)."""
    reason = task_scope(actor).why_not(row)
    if reason is not None:
        raise Forbidden(reason)


def may_take_over(actor: Actor, row: Any) -> bool:
    """The city centre may take over a task a sub-center (or a colleague) has claimed: an acceptor,
    shift leader or dispatcher not tied to a district, for a task of their own role."""
    return (actor.role in SUB_CENTER_ROLES and actor.district_code is None and row.role == actor.role
            and bool(row.assignee) and row.assignee != actor.username)


def check_task_permission(actor: Actor, row: Any) -> None:
    """Acting on a task: it must be visible, and a claimed task is its claimer's alone."""
    check_task_visible(actor, row)
    if row.assignee and row.assignee != actor.username:
        raise Forbidden(f"task {row.name} is claimed by {row.assignee}")


def check_claim_permission(actor: Actor, row: Any) -> None:
    """Claiming a task: as acting on it, except that the city centre may take a claimed task over
    (explicitly, by claiming it: the claim event names whom it was taken from)."""
    if may_take_over(actor, row):
        check_task_visible(actor, row)
    else:
        check_task_permission(actor, row)


def may_act_on_task(actor: Actor, row: Any) -> bool:
    return task_visible(actor, row) and (not row.assignee or row.assignee == actor.username)


def assign_refusal(actor: Actor, row: Any) -> str | None:
    """Who gives a department's task to a named person: a leader of that department (the unit's
    head decides who of its staff handles it). None when ``actor`` may assign ``row``, else why not."""
    if actor.role != Role.LEADER or actor.department_code is None:
        return "only a department's leader assigns its tasks to a person"
    if row.department_code != actor.department_code:
        return f"task {row.name} belongs to department {row.department_code}"
    return None


def may_assign(actor: Actor, row: Any) -> bool:
    return assign_refusal(actor, row) is None


def assignable_filter(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of ``may_assign`` on the ``task`` table (a leader's department's tasks)."""
    if actor.role != Role.LEADER or actor.department_code is None:
        return false()
    return TaskRow.department_code == actor.department_code


def task_visibility_filter(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of ``check_task_visible`` on the ``task`` table."""
    return and_(*task_scope(actor).conditions())


# --- cases ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseScope:
    """The cases an actor may see: all, none, or those of one department and/or one district."""

    all: bool = False
    none: bool = False
    department: str | None = None
    district: str | None = None

    def allows(self, case: Any) -> bool:
        if self.none:
            return False
        if self.all:
            return True
        if self.department is not None and case.department_code != self.department:
            return False
        return self.district is None or case.district_code == self.district

    def condition(self) -> ColumnElement[bool]:
        if self.none:
            return false()
        if self.all:
            return true()
        conds = []
        if self.department is not None:
            conds.append(Case.department_code == self.department)
        if self.district is not None:
            conds.append(Case.district_code == self.district)
        return and_(*conds)


def case_scope(actor: Actor | None) -> CaseScope:
    if actor is None:
        return CaseScope(none=True)
    role = actor.role
    if role in SUB_CENTER_ROLES and actor.district_code:
        return CaseScope(district=actor.district_code)  # a sub-center: its district's cases
    if role in ALL_CASES_ROLES:
        return CaseScope(all=True)
    if role == Role.LEADER:
        return CaseScope(department=actor.department_code) if actor.department_code else CaseScope(all=True)
    if role == Role.HANDLER:
        return CaseScope(department=actor.department_code) if actor.department_code else CaseScope(none=True)
    if role in DISTRICT_ROLES:
        return CaseScope(district=actor.district_code) if actor.district_code else CaseScope(all=True)
    return CaseScope(none=True)


def may_see_case(actor: Actor | None, case: Any) -> bool:
    """``case`` is anything with department_code and district_code (a Case row, a CaseView…)."""
    return case_scope(actor).allows(case)


def check_case_visible(actor: Actor | None, case: Any) -> None:
    if not may_see_case(actor, case):
        raise Forbidden(f"case {case.number} is outside your department or area")


def case_visibility_filter(actor: Actor | None) -> ColumnElement[bool]:
    """The SQL form of ``may_see_case`` on the ``case_record`` table."""
    return case_scope(actor).condition()


def may_supervise(actor: Actor, case: Any) -> bool:
    """A leader's supervision order (督办): open cases of their department (or any, when the leader
    is not tied to one, or the case has no department yet)."""
    if actor.role != Role.LEADER or case.status not in OPEN_STATUSES:
        return False
    return actor.department_code is None or case.department_code in (None, actor.department_code)


__all__ = ["TaskScope", "task_scope", "task_visible", "check_task_visible", "check_task_permission",
           "may_act_on_task", "assign_refusal", "may_assign", "assignable_filter",
           "task_visibility_filter", "CaseScope", "case_scope", "may_see_case",
           "check_case_visible", "case_visibility_filter", "may_supervise", "ALL_CASES_ROLES", "DISTRICT_ROLES",
           "SUB_CENTER_ROLES", "CITY_CENTER", "sub_center", "task_district", "may_take_over", "check_claim_permission"]

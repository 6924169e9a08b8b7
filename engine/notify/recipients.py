"""Who a message concerns: people, not department codes (issue 15).

A BPMN ``notify`` names its addressee as a role (``'acceptor'``), a department code (the case's
``department``) or the duty leader (the engine's emergency alert). Each becomes the people who
should read it, in this order, without repeats:

* the **assignee** of the case's open task of that role or department (the one working on it);
* the **duty person** (``on_duty``, the 24/7 rota) of that role in the case's sub-center — its
  district — or at the city centre (no district), or of that department;
* when neither exists, everyone who could take the task (the role in the sub-center or city, or
  the department's handlers), so a message never falls on nobody;
* for escalations (overdue, supervision order) also the department's **leaders**.

The duty leader: leaders and shift leaders on duty at the case's sub-center or the city centre
(else every leader not tied to a department there).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.model import Role
from engine.models import TaskRow, User

DUTY_LEADER = "duty_leader"  # the addressee of the emergency alert
ESCALATION_KINDS = frozenset({"overdue", "supervision_order"})
_PERSONAL_ROLES = frozenset({Role.SUPERVISOR, Role.ACCEPTOR, Role.SHIFT_LEADER, Role.DISPATCHER,
                             Role.HANDLER, Role.LEADER})


def recipients(session: Session, case_id: int | None, district: str | None, to: str, kind: str) -> list[str]:
    """Usernames of the people message ``kind`` addressed ``to`` concerns, most concerned first."""
    if to == DUTY_LEADER:
        return _duty_leaders(session, district)
    if to in _PERSONAL_ROLES:
        return _for_role(session, case_id, district, to)
    if to:
        return _for_department(session, case_id, to, kind)
    return []


def _unique(*groups: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for name in group:
            seen.setdefault(name, None)
    return list(seen)


def _in_sub_center(district: str | None):
    """The case's sub-center and the city centre (users without a district) both answer for it."""
    return User.district_code.is_(None) if district is None else or_(User.district_code == district,
                                                                      User.district_code.is_(None))


def _users(session: Session, *conds) -> list[str]:
    return list(session.scalars(select(User.username).where(User.active.is_(True), *conds)
                                .order_by(User.district_code.is_(None), User.username)))


def _assignees(session: Session, case_id: int | None, *conds) -> list[str]:
    if case_id is None:
        return []
    return list(session.scalars(select(TaskRow.assignee).where(TaskRow.case_id == case_id,
                                                               TaskRow.assignee.is_not(None), *conds)
                                .order_by(TaskRow.assignee)))


def _duty_leaders(session: Session, district: str | None) -> list[str]:
    leading = User.role.in_((Role.LEADER, Role.SHIFT_LEADER))
    on_duty = _users(session, leading, User.on_duty.is_(True), User.department_code.is_(None),
                     _in_sub_center(district))
    return on_duty or _users(session, User.role == Role.LEADER, User.department_code.is_(None),
                             _in_sub_center(district))


def _for_role(session: Session, case_id: int | None, district: str | None, role: str) -> list[str]:
    people = _unique(_assignees(session, case_id, TaskRow.role == role),
                     _users(session, User.role == role, User.on_duty.is_(True), _in_sub_center(district)))
    return people or _users(session, User.role == role, _in_sub_center(district))


def _for_department(session: Session, case_id: int | None, department: str, kind: str) -> list[str]:
    mine = User.department_code == department
    workers = _unique(_assignees(session, case_id, TaskRow.department_code == department),
                      _users(session, mine, User.on_duty.is_(True)))
    leaders = _users(session, mine, User.role == Role.LEADER) if kind in ESCALATION_KINDS else []
    return _unique(workers or _users(session, mine, User.role == Role.HANDLER), leaders)

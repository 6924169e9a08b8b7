"""The engine's vocabulary: who acts (Actor), what a command needs (EngineContext), and the
values the code itself branches on as StrEnums.

The enum values equal the strings stored in the database and in BPMN files, so a StrEnum
member compares equal to the stored string and nothing stored changes. What a city edits
(classes, departments, regions, limits, weights) stays data and is not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.clock import Clock


class Role(StrEnum):
    """Signed-in roles. The first six are the ones the BPMN lanes name (see ROLES_BY_LANE)."""

    SUPERVISOR = "supervisor"
    ACCEPTOR = "acceptor"
    SHIFT_LEADER = "shift_leader"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    LEADER = "leader"
    CITIZEN = "citizen"
    AUDITOR = "auditor"
    DESIGNER = "designer"
    ADMIN = "admin"
    SYSTEM = "system"


class CaseStatus(StrEnum):
    OPEN = "open"
    SUSPENDED = "suspended"  # 挂账: waiting on a resume task
    CLOSED = "closed"
    VOIDED = "voided"
    INVALID = "invalid"
    MERGED = "merged"  # a duplicate merged into its original (engine.commands.followup)


class Light(StrEnum):
    """Deadline lights of a task: before warn_at, between warn_at and due_at, past due_at."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class TimeUnit(StrEnum):
    MINUTE = "minute"
    WORKHOUR = "workhour"
    WORKDAY = "workday"


class LimitCalendar(StrEnum):
    """Which calendar a time limit is counted on (time_limits.dmn's ``calendar`` column)."""

    WORKING = "working"  # the working-time calendar: work windows of working days
    NATURAL = "natural"  # around the clock (emergencies): every minute counts


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class Source(StrEnum):
    """Where a report came from."""

    SUPERVISOR = "supervisor"
    CITIZEN = "citizen"
    HOTLINE = "hotline"
    CAMERA = "camera"
    SENSOR = "sensor"
    OPEN311 = "open311"


class EventKind(StrEnum):
    START = "start"
    COMPLETE = "complete"
    TIMER = "timer"
    MESSAGE = "message"
    CLAIM = "claim"
    RELEASE = "release"
    ASSIGN = "assign"  # a department leader gave an open task to a named person (or moved it)
    RATING = "rating"
    CORRECTION = "correction"
    MIGRATION = "migration"
    OBSERVATION = "observation"  # a device's alarm, return to normal or silence noted on its open case
    ERASURE = "erasure"  # a reporter's personal data was erased from the case row (PIPL); no PII in it
    MERGE = "merge"  # this case is a duplicate, merged into the original it names (ends its workflow)
    DUPLICATE = "duplicate"  # a duplicate was merged into this case (names the duplicate)
    REOPEN = "reopen"  # a closed case reopened within the reopen window: a new handling round


# The lifecycle's 回访 (callback) step after closing (bpmn/case_lifecycle.bpmn).
CALLBACK_TASK = "Followup_callback"

# Ordered tuples (menus show them in this order); membership works on plain strings too.
URGENCIES: tuple[str, ...] = tuple(Urgency)
UNITS: tuple[str, ...] = tuple(TimeUnit)
LIGHTS: tuple[str, ...] = tuple(Light)
SOURCES: tuple[str, ...] = tuple(Source)
# Sources an operator (hotline desk, camera/sensor integration) may file through the API.
OPERATOR_SOURCES: tuple[str, ...] = (Source.CITIZEN, Source.HOTLINE, Source.CAMERA, Source.SENSOR)
CASE_STATUSES: tuple[str, ...] = tuple(CaseStatus)
OPEN_STATUSES: tuple[str, ...] = (CaseStatus.OPEN, CaseStatus.SUSPENDED)
# Roles whose work is limited to their own department's cases.
DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.LEADER})
# Roles that work from the inbox (the BPMN lanes' roles).
INBOX_ROLES: tuple[str, ...] = (Role.ACCEPTOR, Role.SHIFT_LEADER, Role.DISPATCHER, Role.HANDLER,
                                Role.SUPERVISOR, Role.LEADER)
# Events that change workflow state (replay applies them); the others only annotate history.
STATE_KINDS = frozenset({EventKind.START, EventKind.COMPLETE, EventKind.TIMER, EventKind.MESSAGE,
                         EventKind.CORRECTION,  # a correction changes the workflow's live data
                         EventKind.MERGE, EventKind.REOPEN})


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    department_code: str | None = None
    district_code: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system", Role.SYSTEM)


@dataclass
class EngineContext:
    """What every command needs besides the session: the clock, the calendar settings and the
    hash that chains new history events (AUDIT_HASH)."""

    clock: Clock
    timezone: str = "Asia/Shanghai"
    work_windows: str = "08:30-12:00,13:30-17:30"
    hash_alg: str = "sha256"

    @classmethod
    def from_config(cls, config: dict[str, Any], clock: Clock) -> EngineContext:
        return cls(clock, config["TIMEZONE"], config["WORK_WINDOWS"], config.get("AUDIT_HASH", "sha256"))

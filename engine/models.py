"""SQLAlchemy 2 typed models: the whole citycase schema.

Migrations in ``migrations/`` create exactly this schema; ``tests/engine/test_schema.py``
compares the two on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database (same on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


# --- organisation and geography -------------------------------------------------------------

class Region(Base):
    """District → street → community, each with its administrative code."""

    __tablename__ = "region"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12))  # district | street | community
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    geometry: Mapped[str | None] = mapped_column(Text)  # WKT, WGS-84


class GridCell(Base):
    """A unit grid cell (单元网格): 15 digits = 6 division + 3 street + 3 community + 3 sequence."""

    __tablename__ = "grid_cell"
    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    street_code: Mapped[str] = mapped_column(String(12))
    district_code: Mapped[str] = mapped_column(String(12), index=True)
    geometry: Mapped[str] = mapped_column(Text)  # WKT polygon, WGS-84
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class Department(Base):
    """A handling unit (专业部门) or a centre; city-wide when district_code is empty."""

    __tablename__ = "department"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    handler_type: Mapped[str] = mapped_column(String(40), index=True)
    district_code: Mapped[str | None] = mapped_column(String(12))
    # A deactivated unit keeps its row (cases name it) but gets no new users (migration 0011).
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    # supervisor | acceptor | shift_leader | dispatcher | handler | leader | auditor | designer | admin
    role: Mapped[str] = mapped_column(String(20), index=True)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    district_code: Mapped[str | None] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    # Bumped whenever every session of the user must end (engine.sessions); migration 0008.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # TOTP (engine.second_factor; migration 0012). The verifier needs the secret itself, so it cannot be
    # hashed like a password; the last accepted time step makes every code single-use.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # On the 24/7 duty rota (值班): the person alerted at once, day or night (engine.notify).
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ApiKey(Base):
    """Open311 API keys issued by admins; only the hash is stored."""

    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# --- classification and inventory ------------------------------------------------------------

class ProblemClass(Base):
    """A component (部件) or event (事件) class; code = C|E + 4-digit major+minor (legacy scheme)."""

    __tablename__ = "problem_class"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # component | event
    scheme: Mapped[str] = mapped_column(String(16), default="legacy")
    major: Mapped[str] = mapped_column(String(4))
    major_name: Mapped[str] = mapped_column(String(50))
    minor: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    handler_type: Mapped[str] = mapped_column(String(40))
    suggested_limit: Mapped[float] = mapped_column(Float)
    suggested_unit: Mapped[str] = mapped_column(String(12))  # minute | workhour | workday
    urgency: Mapped[str] = mapped_column(String(12))  # normal | urgent | emergency
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Component(Base):
    """A city asset in the inventory; id = 6 division + 2 major + 2 minor + 6 serial."""

    __tablename__ = "component"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    class_code: Mapped[str] = mapped_column(ForeignKey("problem_class.code"))
    name: Mapped[str] = mapped_column(String(100))
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid_cell.code"), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    owner_departments: Mapped[str] = mapped_column(Text, default="[]")  # JSON list, up to 3
    state: Mapped[str] = mapped_column(String(20), default="normal")
    source: Mapped[str] = mapped_column(String(40), default="census")
    installed_on: Mapped[date | None] = mapped_column(Date)


# --- definitions, cases, tasks, timers, history, outbox ------------------------------------

class DefinitionVersion(Base):
    """One deployed set of BPMN + DMN files, stored once by the sha256 of its content."""

    __tablename__ = "definition_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    files: Mapped[str] = mapped_column(Text)  # JSON {filename: text}
    deployed_by: Mapped[str] = mapped_column(String(64))  # the proposer
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it was proposed
    # proposed | active | retired (engine.designer.lifecycle); one active version per process.
    state: Mapped[str] = mapped_column(String(12), default="proposed", server_default="proposed")
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("process_id", "version"),)


class DefinitionEvent(Base):
    """Append-only, hash-chained history of definition versions (proposed, approved, rolled back…)."""

    __tablename__ = "definition_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"), index=True)
    data: Mapped[str] = mapped_column(Text)  # canonical JSON: hashes of the versions involved
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Case(Base):
    __tablename__ = "case_record"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | closed | voided | invalid
    outcome: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # supervisor | citizen | hotline | camera | sensor | open311
    class_code: Mapped[str] = mapped_column(ForeignKey("problem_class.code"))
    urgency: Mapped[str] = mapped_column(String(12))
    grid_code: Mapped[str] = mapped_column(String(15))
    community_code: Mapped[str] = mapped_column(String(12))
    street_code: Mapped[str] = mapped_column(String(12))
    district_code: Mapped[str] = mapped_column(String(12))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    component_id: Mapped[str | None] = mapped_column(String(16))
    department_code: Mapped[str | None] = mapped_column(String(64), index=True)
    reporter: Mapped[str] = mapped_column(String(100), default="")
    # Hex salt of the start event's reporter_commitment = sha256(salt ‖ reporter); erasable.
    reporter_salt: Mapped[str | None] = mapped_column(String(32))
    public_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Workflow state without the spec (orjson bytes); version is the optimistic lock.
    state: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class TaskRow(Base):
    """The task projection: one row per READY user task. Inboxes read only this (and cases)."""

    __tablename__ = "task"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    spec_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    department_code: Mapped[str | None] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(String(12))
    class_code: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The deadline counts every minute (time_limits.dmn's calendar column: emergencies), not working
    # time only; pages say the time left accordingly (migration 0016).
    natural_time: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(12), default="ready")
    __table_args__ = (
        Index("ix_task_role_dept_due", "role", "department_code", "due_at", "id"),
        Index("ix_task_role_district_due", "role", "district_code", "due_at", "id"),
        Index("ix_task_assignee_due", "assignee", "due_at", "id"),
        # Group inboxes: a role's unclaimed tasks in due order, whatever the department.
        Index("ix_task_role_assignee_due", "role", "assignee", "due_at", "id"),
    )


class Deadline(Base):
    """A pending timer of a case (from ``waiting_events()``), claimed by the scheduler when due."""

    __tablename__ = "deadline"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Event(Base):
    """Append-only history; hash = H(prev_hash + canonical event), H named by hash_alg (engine.history).
    Never updated or deleted."""

    __tablename__ = "event"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_spec: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON
    spec_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The chain hash this event was hashed with (AUDIT_HASH when it was written; migration 0014).
    hash_alg: Mapped[str] = mapped_column(String(16), default="sha256", server_default="sha256")
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_event_case_seq"),
                      # The evaluation finds a period's events by time (migration 0005).
                      Index("ix_event_at", "at"))


class Outbox(Base):
    """External effects (SMS, push, upward sync), written in the command's transaction, sent after commit."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),)


class Attachment(Base):
    """A photo of a case (before / after), re-encoded and stripped of location metadata."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    stage: Mapped[str] = mapped_column(String(16))  # report | handle | check
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExchangeCursor(Base):
    """How far the history has been sent to an outside platform (engine.exchange; migration 0012)."""

    __tablename__ = "exchange_cursor"
    peer: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExchangeLink(Base):
    """A case that came from an outside platform (a 12345 work order), by that platform's id for it."""

    __tablename__ = "exchange_link"
    peer: Mapped[str] = mapped_column(String(20), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("case_record.id"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SavedSearch(Base):
    """A caseworker's named case search (常用查询): the filters as a query string (migration 0017)."""

    __tablename__ = "saved_search"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(40))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("username", "name", name="uq_saved_search_user_name"),)


class ReportReceipt(Base):
    """A report's idempotency key, per reporter: the same key sent again gives the same case."""

    __tablename__ = "report_receipt"
    reporter: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("case_record.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarDay(Base):
    """The working-time calendar: one row per day; windows as JSON [["08:30","12:00"], …] local time."""

    __tablename__ = "calendar_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    windows: Mapped[str] = mapped_column(Text, default="[]")
    note: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(32), default="weekday")  # chinese_calendar | holidays | admin


class Counter(Base):
    """Named sequences (case numbers per day) that work the same on SQLite and PostgreSQL."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class Checkpoint(Base):
    """A signed checkpoint of the global event log (engine.audit.checkpoints). Never updated or deleted.

    Covers the events with id <= last_event_id (tree_size of them, in id order): root is the
    RFC 6962 Merkle tree head over their hashes; prev_hash links to the previous checkpoint."""

    __tablename__ = "audit_checkpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    last_event_id: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash_alg: Mapped[str] = mapped_column(String(16))
    sig_alg: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The tree's right edge (roots of its perfect subtrees) so the next checkpoint extends it
    # instead of rehashing the whole log; verify never trusts it and recomputes from the events.
    frontier: Mapped[str] = mapped_column(Text)
    # The auditor access log's head when signed (entries, hash of the last one): anchors its end
    # so a truncated access log is found (migration 0014; NULL in checkpoints signed before).
    access_size: Mapped[int | None] = mapped_column(BigInteger)
    access_hash: Mapped[str | None] = mapped_column(String(64))


# --- evaluation (engine/evaluation) ---------------------------------------------------------

class EvaluationWeight(Base):
    """A term of a kind's composite score: score = Σ weight × term (DOMAIN.md §6, editable data).

    A term is a rate (its Rate value, a percentage), ``volume`` (0–100 relative to the busiest
    unit) or ``100-<rate>`` (the complement, e.g. ``100-rework_rate``)."""

    __tablename__ = "evaluation_weight"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    term: Mapped[str] = mapped_column(String(40), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)


class EvaluationGrade(Base):
    """Grade bands: a score at or above ``min_score`` earns ``grade`` (the highest band that fits)."""

    __tablename__ = "evaluation_grade"
    grade: Mapped[str] = mapped_column(String(4), primary_key=True)
    min_score: Mapped[float] = mapped_column(Float)


class EvaluationSnapshot(Base):
    """A month's evaluation frozen on the first working day of the next month. Never updated or
    deleted; hash = sha256(prev_hash + canonical content), chained like the history."""

    __tablename__ = "evaluation_snapshot"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM (local time)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[str] = mapped_column(Text)  # canonical JSON of every kind's results
    content_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AccessLogEntry(Base):
    """Who used the audit pages, when, on what (append-only, one hash chain over the table)."""

    __tablename__ = "audit_access"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(100), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON (filters, results)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# The device table lives with its package; importing it here keeps Base.metadata the whole schema.
# The ORM hook that ends sessions when a user row changes lives with the session rules.
from engine import sessions as _sessions  # noqa: E402,F401
from engine.admin import models as _admin_models  # noqa: E402,F401
from engine.devices import models as _device_models  # noqa: E402,F401
from engine.notify import models as _notify_models  # noqa: E402,F401
from engine.patrol import models as _patrol_models  # noqa: E402,F401

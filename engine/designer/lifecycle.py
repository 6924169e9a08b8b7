"""Definition versions: proposed → active → retired, with four eyes and a hash-chained history.

A version is the set of BPMN, DMN and form files deployed together (one ``definition_version``
row, identified by its integer id). One designer proposes it, another approves it (never the
same person); approval makes it the process's one active version and retires the previous one.
Rollback makes an earlier, once-approved version active again. Every transition appends a
``definition_event`` row whose hash chains to the previous one (like a case's history).
None of these functions commits: the caller's transaction is the boundary.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import definitions
from engine.designer.validation import Problem, validate
from engine.errors import Conflict, DefinitionError, Forbidden, NotFound
from engine.history import GENESIS, canonical_json
from engine.model import OPEN_STATUSES, Actor, Role
from engine.models import Case, DefinitionEvent, DefinitionVersion


class VersionState(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    RETIRED = "retired"


class HistoryKind(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    RETIRED = "retired"
    ROLLED_BACK = "rolled_back"
    DEPLOYED = "deployed"  # set-up: stored and activated by the system in one step


class ProposalRefused(DefinitionError):
    """The files have problems; nothing was stored. ``problems`` lists them with element ids."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"the files have {len(problems)} problem(s): {first.text()}{more}")
        self.problems = problems


@dataclass(frozen=True)
class VersionInfo:
    id: int
    process_id: str
    version: int
    sha256: str
    state: str
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    open_cases: int
    closed_cases: int

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


DESIGNER_ROLES = frozenset({Role.DESIGNER})


def _require_designer(actor: Actor) -> None:
    if actor.role not in DESIGNER_ROLES:
        raise Forbidden(f"{actor.username} is not a process designer")


def _row(session: Session, version_id: int, lock: bool = False) -> DefinitionVersion:
    query = select(DefinitionVersion).where(DefinitionVersion.id == version_id)
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"definition version {version_id} does not exist")
    return row


# --- history -------------------------------------------------------------------------------------

def _event_hash(prev_hash: str, seq: int, at: datetime, actor: str, kind: str, definition_id: int,
                data_json: str) -> str:
    canonical = canonical_json({"seq": seq, "at": at.isoformat(), "actor": actor, "kind": kind,
                                "definition_id": definition_id, "data": data_json})
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _record(session: Session, kind: HistoryKind, row: DefinitionVersion, actor: str, now: datetime,
            **extra: Any) -> None:
    last = session.execute(select(DefinitionEvent.seq, DefinitionEvent.hash)
                           .order_by(DefinitionEvent.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    data_json = canonical_json({"sha256": row.sha256, "process_id": row.process_id, "version": row.version,
                                **extra})
    h = _event_hash(prev, seq, now, actor, kind, row.id, data_json)
    # seq is unique: two concurrent transitions cannot both append at the same place.
    session.add(DefinitionEvent(seq=seq, at=now, actor=actor, kind=str(kind), definition_id=row.id,
                                data=data_json, prev_hash=prev, hash=h))
    session.flush()


def history(session: Session, definition_id: int | None = None) -> list[DefinitionEvent]:
    query = select(DefinitionEvent).order_by(DefinitionEvent.seq)
    if definition_id is not None:
        query = query.where(DefinitionEvent.definition_id == definition_id)
    return list(session.scalars(query))


def verify_history(session: Session) -> list[str]:
    """Breaks in the definition history's hash chain (empty when intact)."""
    prev, problems = GENESIS, []
    for expected, ev in enumerate(history(session), start=1):
        if ev.seq != expected:
            problems.append(f"definition history: sequence gap at {ev.seq} (expected {expected})")
        if ev.prev_hash != prev or _event_hash(prev, ev.seq, ev.at, ev.actor, ev.kind, ev.definition_id,
                                               ev.data) != ev.hash:
            problems.append(f"definition history: event {ev.seq} does not match its hash chain")
        prev = ev.hash
    return problems


# --- transitions ---------------------------------------------------------------------------------

def propose(session: Session, files: dict[str, str], actor: Actor, now: datetime) -> DefinitionVersion:
    """Validate and store a file set as a proposal; raises ProposalRefused listing every problem."""
    _require_designer(actor)
    problems = validate(files, session)
    if problems:
        raise ProposalRefused(problems)
    sha = definitions.content_hash(files)
    existing = session.scalar(select(DefinitionVersion).where(DefinitionVersion.sha256 == sha))
    if existing is not None:
        raise Conflict(f"these files are already version {existing.id} ({existing.state})")
    row, _ = definitions.store(session, files, actor.username, now)
    _record(session, HistoryKind.PROPOSED, row, actor.username, now)
    return row


def _activate(session: Session, row: DefinitionVersion, actor: str, now: datetime, kind: HistoryKind) -> None:
    current = session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.process_id == row.process_id, DefinitionVersion.state == VersionState.ACTIVE,
        DefinitionVersion.id != row.id).with_for_update()).all()
    previous = None
    for old in current:
        old.state = VersionState.RETIRED
        previous = old
        _record(session, HistoryKind.RETIRED, old, actor, now, replaced_by=row.id, replaced_by_sha256=row.sha256)
    row.state = VersionState.ACTIVE
    extra = {"previous": previous.id, "previous_sha256": previous.sha256} if previous else {}
    _record(session, kind, row, actor, now, **extra)


def approve(session: Session, version_id: int, actor: Actor, now: datetime) -> DefinitionVersion:
    """A second designer approves a proposal: it becomes active for new cases (four eyes)."""
    _require_designer(actor)
    row = _row(session, version_id, lock=True)
    if row.state != VersionState.PROPOSED:
        raise Conflict(f"version {version_id} is {row.state}, not proposed")
    if row.deployed_by == actor.username:
        raise Forbidden(f"version {version_id} was proposed by {actor.username}; another designer must approve it")
    row.approved_by, row.approved_at = actor.username, now
    _activate(session, row, actor.username, now, HistoryKind.APPROVED)
    return row


def rollback(session: Session, version_id: int, actor: Actor, now: datetime) -> DefinitionVersion:
    """Make an earlier, once-approved version active again."""
    _require_designer(actor)
    row = _row(session, version_id, lock=True)
    if row.state != VersionState.RETIRED or row.approved_at is None:
        raise Conflict(f"version {version_id} is {row.state}; only a retired, once-active version can be "
                       "made active again")
    _activate(session, row, actor.username, now, HistoryKind.ROLLED_BACK)
    return row


def deploy_as_system(session: Session, files: dict[str, str], deployed_by: str,
                     now: datetime) -> tuple[DefinitionVersion, bool]:
    """``citycase deploy``: store new files and make them active, recorded as the system.

    Deploying files that are already stored changes nothing while the process has an active
    version: re-running set-up (``make demo``) must not undo what designers approved since."""
    row, created = definitions.store(session, files, deployed_by, now)
    if row.state != VersionState.ACTIVE and (created or active_id(session, row.process_id) is None):
        if row.approved_at is None:
            row.approved_by, row.approved_at = Role.SYSTEM.value, now
        _activate(session, row, Role.SYSTEM.value, now, HistoryKind.DEPLOYED)
    return row, created


# --- reading -------------------------------------------------------------------------------------

def list_versions(session: Session, process_id: str | None = None) -> list[VersionInfo]:
    counts: dict[tuple[int, bool], int] = {}
    for def_id, status, n in session.execute(select(Case.definition_id, Case.status, func.count())
                                             .group_by(Case.definition_id, Case.status)):
        key = (def_id, status in OPEN_STATUSES)
        counts[key] = counts.get(key, 0) + n
    query = select(DefinitionVersion.id, DefinitionVersion.process_id, DefinitionVersion.version,
                   DefinitionVersion.sha256, DefinitionVersion.state, DefinitionVersion.deployed_by,
                   DefinitionVersion.deployed_at, DefinitionVersion.approved_by, DefinitionVersion.approved_at
                   ).order_by(DefinitionVersion.process_id, DefinitionVersion.version.desc())
    if process_id:
        query = query.where(DefinitionVersion.process_id == process_id)
    return [VersionInfo(r.id, r.process_id, r.version, r.sha256, r.state, r.deployed_by, r.deployed_at,
                        r.approved_by, r.approved_at, counts.get((r.id, True), 0), counts.get((r.id, False), 0))
            for r in session.execute(query)]


def version_info(session: Session, version_id: int) -> VersionInfo:
    for info in list_versions(session):
        if info.id == version_id:
            return info
    raise NotFound(f"definition version {version_id} does not exist")


def version_files(session: Session, version_id: int) -> dict[str, str]:
    return orjson.loads(_row(session, version_id).files)


def active_id(session: Session, process_id: str = "case_lifecycle") -> int | None:
    return session.scalar(select(DefinitionVersion.id).where(
        DefinitionVersion.process_id == process_id, DefinitionVersion.state == VersionState.ACTIVE))


__all__ = ["VersionState", "HistoryKind", "ProposalRefused", "VersionInfo", "propose", "approve", "rollback",
           "deploy_as_system", "list_versions", "version_info", "version_files", "history", "verify_history",
           "active_id"]

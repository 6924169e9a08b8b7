"""Monthly snapshots: each month's evaluation frozen on the first working day of the next month.

A snapshot row is never updated or deleted (the database refuses it, migration 0005); its
content is the canonical JSON of every kind's results and the weights used, and
hash = sha256(prev_hash ‖ content) chains the snapshots like the history. Verification
recomputes each month from the events with the weights the snapshot recorded and reports every
number that differs, and any break in the chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import get_calendar
from engine.errors import Conflict, NotFound
from engine.evaluation.compute import evaluate
from engine.evaluation.metrics import Kind
from engine.evaluation.periods import month_of, parse_period
from engine.evaluation.scoring import ScoreSettings
from engine.models import EvaluationSnapshot

GENESIS = "0" * 64


def canonical(content: dict[str, Any]) -> str:
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS).decode()


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


def _month_content(session: Session, month: str, tz: str, settings: ScoreSettings | None = None) -> dict[str, Any]:
    period = parse_period(month, tz)
    return evaluate(session, period, settings).as_dict()


def freeze(session: Session, month: str, tz: str, now: datetime) -> EvaluationSnapshot:
    """Freeze ``month`` (YYYY-MM) now; refused before the month has ended or when already frozen."""
    period = parse_period(month, tz)
    if period.label != month:
        raise NotFound(f"not a month: {month}")
    if now < period.end:
        raise Conflict(f"{month} has not ended yet")
    if session.scalar(select(EvaluationSnapshot.id).where(EvaluationSnapshot.month == month)) is not None:
        raise Conflict(f"{month} is already frozen")
    last = session.scalars(select(EvaluationSnapshot).order_by(EvaluationSnapshot.id.desc()).limit(1)).first()
    prev_hash = last.hash if last is not None else GENESIS
    content = canonical(_month_content(session, month, tz))
    snap = EvaluationSnapshot(month=month, period_start=period.start, period_end=period.end, created_at=now,
                              content=content, content_hash=hashlib.sha256(content.encode()).hexdigest(),
                              prev_hash=prev_hash, hash=chain_hash(prev_hash, content))
    session.add(snap)
    session.flush()
    return snap


def first_working_day_reached(session: Session, now: datetime, tz: str, windows: str) -> bool:
    """Is today (local) on or after the first working day of the current month?"""
    calendar = get_calendar(session, tz, windows)
    today = now.astimezone(ZoneInfo(tz)).date()
    day = today.replace(day=1)
    while not calendar.is_working_day(day) and day < today:
        day += timedelta(days=1)
    return calendar.is_working_day(day) or day < today


def freeze_due(session: Session, now: datetime, tz: str, windows: str) -> str | None:
    """The scheduler's hook: freeze last month once its first working day has come; the month frozen."""
    previous = month_of(month_of(now, tz).start - timedelta(seconds=1), tz).label
    if session.scalar(select(EvaluationSnapshot.id).where(EvaluationSnapshot.month == previous)) is not None:
        return None
    if not first_working_day_reached(session, now, tz, windows):
        return None
    freeze(session, previous, tz, now)
    return previous


@dataclass
class VerifyReport:
    checked: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "differences": self.differences}

    def text(self) -> str:
        head = f"snapshots checked: {', '.join(self.checked) or 'none'}"
        if self.ok:
            return head + "\nall snapshots match a recomputation from the events"
        return head + "\n" + "\n".join(f"DIFFERENCE {d}" for d in self.differences)


def _settings(content: dict[str, Any]) -> ScoreSettings:
    raw = content.get("settings") or {}
    weights = {Kind(k): {t: float(w) for t, w in v.items()} for k, v in (raw.get("weights") or {}).items()}
    return ScoreSettings(weights, tuple((g, float(m)) for g, m in raw.get("bands") or ()))


def _diff(prefix: str, old: Any, new: Any, out: list[str], limit: int = 50) -> None:
    if len(out) >= limit:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _diff(f"{prefix}.{key}", old.get(key), new.get(key), out, limit)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(f"{prefix}[{i}]", a, b, out, limit)
    elif old != new:
        out.append(f"{prefix}: frozen {old!r}, recomputed {new!r}")


def verify_snapshots(session: Session, month: str | None, tz: str) -> VerifyReport:
    """Check the chain and recompute ``month`` (every month when None) from the events."""
    report = VerifyReport()
    prev = GENESIS
    found = False
    for snap in session.scalars(select(EvaluationSnapshot).order_by(EvaluationSnapshot.id)):
        if snap.prev_hash != prev or snap.hash != chain_hash(snap.prev_hash, snap.content):
            report.differences.append(f"{snap.month}: the snapshot chain is broken (hash does not match)")
        prev = snap.hash
        if month is not None and snap.month != month:
            continue
        found = True
        report.checked.append(snap.month)
        frozen = orjson.loads(snap.content)
        recomputed = orjson.loads(canonical(_month_content(session, snap.month, tz, _settings(frozen))))
        _diff(snap.month, frozen, recomputed, report.differences)
    if month is not None and not found:
        raise NotFound(f"no snapshot of {month}")
    return report


__all__ = ["VerifyReport", "canonical", "chain_hash", "first_working_day_reached", "freeze", "freeze_due",
           "verify_snapshots"]

"""What the notification pages read and change: a person's notices and preferences, the dead letters.

Functions take a session and never commit (the request commits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from engine.errors import NotFound, ValidationError
from engine.models import Outbox, User
from engine.notify.fanout import parse_hhmm
from engine.notify.models import Notice, NotificationSetting
from engine.outbox import NEVER

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$")
_PHONE = re.compile(r"^\+?[0-9 \-]{5,32}$")


@dataclass(frozen=True)
class NoticeView:
    id: int
    case_number: str | None
    kind: str
    text: str
    emergency: bool
    created_at: datetime
    read: bool


def notices_for(session: Session, username: str, limit: int = 100) -> list[NoticeView]:
    rows = session.scalars(select(Notice).where(Notice.username == username)
                           .order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit))
    return [NoticeView(n.id, n.case_number, n.kind, n.text, n.emergency, n.created_at, n.read_at is not None)
            for n in rows]


def unread_count(session: Session, username: str) -> int:
    return session.scalar(select(func.count()).select_from(Notice)
                          .where(Notice.username == username, Notice.read_at.is_(None))) or 0


def mark_all_read(session: Session, username: str, now: datetime) -> None:
    session.execute(update(Notice).where(Notice.username == username, Notice.read_at.is_(None))
                    .values(read_at=now))


# --- preferences --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preferences:
    email: str = ""
    phone: str = ""
    email_on: bool = True
    webhook_on: bool = True
    quiet_from: str = ""
    quiet_to: str = ""


def preferences(session: Session, user_id: int) -> Preferences:
    s = session.get(NotificationSetting, user_id)
    if s is None:
        return Preferences()
    return Preferences(s.email or "", s.phone or "", s.email_on, s.webhook_on, s.quiet_from or "", s.quiet_to or "")


def check_preferences(p: Preferences) -> Preferences:
    """Clean values, or ValidationError naming each bad field (the database stays unchanged)."""
    errors: dict[str, str] = {}
    email, phone = p.email.strip(), p.phone.strip()
    if email and not _EMAIL.match(email):
        errors["email"] = "not an e-mail address"
    if phone and not _PHONE.match(phone):
        errors["phone"] = "not a phone number"
    for key in ("quiet_from", "quiet_to"):
        try:
            parse_hhmm(getattr(p, key))
        except ValueError:
            errors[key] = "a time of day like 22:00"
    if bool(p.quiet_from.strip()) != bool(p.quiet_to.strip()):
        errors["quiet_to" if p.quiet_from.strip() else "quiet_from"] = "quiet hours need a start and an end"
    if errors:
        raise ValidationError("; ".join(f"{k}: {v}" for k, v in errors.items()), errors)
    return Preferences(email, phone, p.email_on, p.webhook_on, p.quiet_from.strip(), p.quiet_to.strip())


def save_preferences(session: Session, user_id: int, p: Preferences) -> Preferences:
    clean = check_preferences(p)
    row = session.get(NotificationSetting, user_id) or NotificationSetting(user_id=user_id)
    row.email, row.phone = clean.email or None, clean.phone or None
    row.email_on, row.webhook_on = clean.email_on, clean.webhook_on
    row.quiet_from, row.quiet_to = clean.quiet_from or None, clean.quiet_to or None
    session.add(row)
    session.flush()
    return clean


def set_on_duty(session: Session, username: str, on_duty: bool) -> None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    user.on_duty = on_duty


# --- dead letters ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeadLetter:
    id: int
    kind: str
    user: str | None
    case: str | None
    text: str
    created_at: datetime
    attempts: int
    last_error: str


def _gave_up() -> ColumnElement[bool]:
    """Rows the deliverer gave up on carry next_attempt_at = NEVER (engine.outbox)."""
    return Outbox.next_attempt_at >= NEVER.replace(month=1, day=1)


def dead_letters(session: Session, limit: int = 200) -> list[DeadLetter]:
    rows = session.scalars(select(Outbox).where(Outbox.delivered_at.is_(None), _gave_up())
                           .order_by(Outbox.id.desc()).limit(limit))
    out = []
    for r in rows:
        try:
            payload = orjson.loads(r.payload)
        except orjson.JSONDecodeError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        out.append(DeadLetter(r.id, r.kind, payload.get("user"), payload.get("case"), str(payload.get("text") or ""),
                              r.created_at, r.attempts, r.last_error or ""))
    return out


def retry_dead_letter(session: Session, outbox_id: int, now: datetime) -> None:
    """Send a dead letter again from the next tick, with a fresh count of attempts."""
    changed = session.execute(update(Outbox).where(Outbox.id == outbox_id, Outbox.delivered_at.is_(None),
                                                   _gave_up())
                              .values(attempts=0, next_attempt_at=now)).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        raise NotFound(f"no dead letter {outbox_id} (sent meanwhile, or retried already)")

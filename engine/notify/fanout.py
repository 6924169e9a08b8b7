"""Turn each message for people into notices and channel deliveries, once (issue 15).

Commands write a message as one outbox row (``audience: people``; see handlers ``notify`` and the
emergency alert in ``start_case``), in their own transaction, so the hot path never looks people
up. The scheduler's tick calls ``fan_out`` before delivering: in one short transaction per batch
it finds the people the message concerns (``engine.notify.recipients``), writes one ``notice``
per person (what their notices page shows: the same message) and one outbox row per channel the
person receives, and marks the message itself delivered. All or nothing: a crash leaves the
message pending and the next tick fans it out again; notices are unique per (message, person).

Each person's preferences (``notification_setting``) apply: a channel switched off is skipped,
one without an address too, and outside emergencies a delivery falling in the person's quiet
hours waits until they end (its outbox row's first attempt is then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.models import Case, Outbox, User
from engine.notify.models import Channel, Notice, NotificationSetting
from engine.notify.recipients import recipients
from engine.outbox import PEOPLE_MARK, write_transaction

PEOPLE = "people"


def is_people_message(payload: dict[str, Any]) -> bool:
    return payload.get("audience") == PEOPLE


def parse_hhmm(value: str | None) -> time | None:
    """"22:00" → 22:00; None or "" → None; anything else raises ValueError with the reason."""
    if not value:
        return None
    try:
        hour, minute = value.strip().split(":")
        return time(int(hour), int(minute))
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day like 22:00") from None


def quiet_until(now: datetime, setting: NotificationSetting | None, tz: str) -> datetime | None:
    """When ``now`` falls in the person's quiet hours, the instant they end; else None."""
    if setting is None:
        return None
    start, end = parse_hhmm(setting.quiet_from), parse_hhmm(setting.quiet_to)
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(ZoneInfo(tz))
    t = local.time().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


@dataclass(frozen=True)
class Person:
    username: str
    setting: NotificationSetting | None

    def address(self, channel: Channel) -> str | None:
        s = self.setting
        if s is None:  # no settings yet: the webhook (addressed by user name), no e-mail address
            return "" if channel is Channel.WEBHOOK else None
        if channel is Channel.EMAIL:
            return s.email if s.email_on and s.email else None
        return (s.phone or "") if s.webhook_on else None


def _people(session: Session, names: list[str]) -> list[Person]:
    if not names:
        return []
    rows = session.execute(select(User.username, NotificationSetting)
                           .outerjoin(NotificationSetting, NotificationSetting.user_id == User.id)
                           .where(User.username.in_(names))).all()
    found = {name: setting for name, setting in rows}
    return [Person(n, found.get(n)) for n in names if n in found]


def _messages(session: Session, now: datetime, batch: int) -> list[Any]:
    stmt = (select(Outbox.id, Outbox.case_id, Outbox.payload, Case.district_code)
            .outerjoin(Case, Case.id == Outbox.case_id)
            .where(Outbox.delivered_at.is_(None), Outbox.payload.contains(PEOPLE_MARK))
            .order_by(Outbox.id).limit(batch))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Outbox, skip_locked=True)
    return list(session.execute(stmt).all())


def _fan_one(session: Session, row: Any, now: datetime, channels: frozenset[Channel], tz: str) -> int:
    payload = orjson.loads(row.payload)
    kind, emergency = str(payload.get("kind") or ""), bool(payload.get("emergency"))
    names = recipients(session, row.case_id, row.district_code, str(payload.get("to") or ""), kind)
    taken = set(session.scalars(select(Notice.username).where(Notice.message_id == row.id)))
    written = 0
    for person in _people(session, names):
        if person.username in taken:
            continue
        notice = Notice(message_id=row.id, case_id=row.case_id, case_number=payload.get("case"), kind=kind,
                        text=str(payload.get("text") or ""), username=person.username, emergency=emergency,
                        created_at=now)
        session.add(notice)
        session.flush()
        written += 1
        first = None if emergency else quiet_until(now, person.setting, tz)
        for channel in sorted(channels):
            address = person.address(channel)
            if address is None:
                continue
            out = {"notice": notice.id, "user": person.username, "address": address, "phone": address
                   if channel is Channel.WEBHOOK else None, "case": notice.case_number, "kind": kind,
                   "text": notice.text, "emergency": emergency}
            session.add(Outbox(case_id=None, kind=channel.outbox_kind, created_at=now, attempts=0,
                               payload=orjson.dumps(out, option=orjson.OPT_SORT_KEYS).decode(),
                               next_attempt_at=first or now))
    session.execute(update(Outbox).where(Outbox.id == row.id).values(delivered_at=now))
    return written


def fan_out(factory: sessionmaker[Session], clock: Clock, channels: frozenset[Channel], tz: str,
            *, batch: int = 200) -> int:
    """Fan out every pending people message; the number of messages fanned out."""
    with factory() as session:  # a plain read first: most ticks have nothing, and need no write lock
        if session.scalar(select(Outbox.id).where(Outbox.delivered_at.is_(None),
                                                  Outbox.payload.contains(PEOPLE_MARK)).limit(1)) is None:
            return 0
    total = 0
    while True:
        with write_transaction(factory) as session:
            now = clock.now()
            rows = _messages(session, now, batch)
            for row in rows:
                _fan_one(session, row, now, channels, tz)
            total += len(rows)
        if len(rows) < batch:
            return total

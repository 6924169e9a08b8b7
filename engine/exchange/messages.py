"""History events as exchange messages (format ``citycase-exchange/1``, docs/exchange.md).

Only completed tasks that change what an outside platform knows become messages; everything else in
the history is skipped (the cursor still moves past it). A message carries the event's hash as its
id, so a receiver drops repeats (delivery is at least once) and can later ask our auditors to prove
the event is in the hash-chained history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.exchange.peers import PEER_TYPES, MessageType, Peer
from engine.model import EventKind
from engine.models import Case, Department, Event, ExchangeLink

FORMAT = "citycase-exchange/1"
# Events younger than this are left for the next round: on PostgreSQL an event id is taken at insert
# time, so a transaction that commits a moment later may still add a smaller id behind the cursor.
SETTLE = timedelta(seconds=30)
_SPECS = ("file", "verify", "confirm_self_handled", "dispatch", "handle", "close")


@dataclass(frozen=True)
class Batch:
    messages: list[dict[str, Any]]
    last_event_id: int  # the cursor after this batch (past skipped events too)


def message_type(spec: str | None, form: dict[str, Any]) -> MessageType | None:
    """What a completed task means to the outside, or None when it means nothing there."""
    if spec == "file":
        return MessageType.FILED if form.get("decision") == "file" else MessageType.VOIDED
    if spec == "verify" and form.get("verdict") not in (None, "confirmed"):
        return MessageType.INVALID
    if spec == "dispatch":
        return MessageType.DISPATCHED
    if spec == "handle" and form.get("outcome") == "done":
        return MessageType.HANDLED
    if spec == "close" or (spec == "confirm_self_handled" and form.get("decision") == "close"):
        return MessageType.CLOSED
    return None


def next_batch(session: Session, peer: Peer, after_event_id: int, now: datetime, tz: str,
               limit: int = 200) -> Batch:
    """The messages for ``peer`` among the events after ``after_event_id`` (oldest first)."""
    query = (select(Event.id, Event.at, Event.task_spec, Event.data, Event.hash, Case.number, Case.class_code,
                    Case.urgency, Case.source, Case.district_code, Case.street_code, Case.grid_code,
                    Case.created_at, Case.department_code)
             .join(Case, Case.id == Event.case_id)
             .where(Event.id > after_event_id, Event.at <= now - SETTLE, Event.kind == EventKind.COMPLETE,
                    Event.task_spec.in_(_SPECS))
             .order_by(Event.id).limit(limit))
    links: dict[str, str] = {}
    if peer.linked_only:
        query = query.join(ExchangeLink, (ExchangeLink.case_id == Case.id) & (ExchangeLink.peer == peer.name))
        query = query.add_columns(ExchangeLink.external_id)
    rows = session.execute(query).all()
    wanted = PEER_TYPES[peer.name]
    departments = _department_names(session, {r.department_code for r in rows if r.department_code})
    messages = []
    for row in rows:
        form = orjson.loads(row.data).get("form") or {}
        kind = message_type(row.task_spec, form)
        if kind is None or kind not in wanted:
            continue
        if peer.linked_only:
            links[row.number] = row.external_id
        messages.append(_message(row, kind, form, departments, tz, links.get(row.number)))
    last = rows[-1].id if rows else after_event_id
    if len(rows) < limit:  # nothing further is settled yet: the cursor may skip over unrelated events
        last = max(last, _last_settled_id(session, after_event_id, now))
    return Batch(messages, last)


def _message(row: Any, kind: MessageType, form: dict[str, Any], departments: dict[str, str], tz: str,
             external_id: str | None) -> dict[str, Any]:
    zone = ZoneInfo(tz)
    out: dict[str, Any] = {
        "id": row.hash, "event_id": row.id, "type": str(kind), "case": row.number,
        "at": row.at.astimezone(zone).isoformat(timespec="seconds"),
        "reported_at": row.created_at.astimezone(zone).isoformat(timespec="seconds"),
        "class_code": row.class_code, "urgency": row.urgency, "source": row.source,
        "district_code": row.district_code, "street_code": row.street_code, "grid_code": row.grid_code,
    }
    if external_id is not None:
        out["external_id"] = external_id
    if kind is MessageType.DISPATCHED:
        code = str(form.get("department") or row.department_code or "")
        out["department"] = {"code": code, "name": departments.get(code, code)}
    if kind in (MessageType.HANDLED, MessageType.CLOSED):
        out["result"] = str(form.get("result") or form.get("note") or "")
    if kind in (MessageType.VOIDED, MessageType.INVALID):
        out["reason"] = str(form.get("void_reason") or form.get("reason") or form.get("note") or "")
    return out


def _department_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(session.execute(select(Department.code, Department.name).where(Department.code.in_(codes))).all())


def _last_settled_id(session: Session, after_event_id: int, now: datetime) -> int:
    """The newest event id old enough to be final, so the cursor need not re-read unrelated events."""
    from sqlalchemy import func

    found = session.scalar(select(func.max(Event.id)).where(Event.id > after_event_id, Event.at <= now - SETTLE))
    return int(found or after_event_id)


def envelope(peer: Peer, messages: list[dict[str, Any]], now: datetime, tz: str) -> bytes:
    return orjson.dumps({"format": FORMAT, "platform": peer.platform_id, "peer": str(peer.name),
                         "sent_at": now.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds"),
                         "messages": messages})

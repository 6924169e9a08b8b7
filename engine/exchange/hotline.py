"""A 12345 work order coming in (派单 from the city's hotline platform) becomes a hotline case, once.

The order's number is the link: the same order sent again (the platform retries until it hears
back) returns the case the first send made and writes nothing. The caller's name and phone go
into the case's reporter field, which the history keeps only as a salted commitment (PIPL erasure
stays possible). Progress goes back to 12345 through engine.exchange.push (peer ``12345``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr
from pydantic import ValidationError as ShapeError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.commands import start_case
from engine.errors import Conflict, ValidationError
from engine.exchange.peers import PeerName
from engine.model import Actor, EngineContext, Source
from engine.models import Case, ExchangeLink

# The platform files like an outside reporter does (Open311 clients too): no staff role of ours.
ACTOR = Actor("12345", "citizen")


class WorkOrder(BaseModel):
    """The documented shape of a 12345 work order (docs/exchange.md)."""

    model_config = ConfigDict(extra="ignore")  # the platform's other fields are not ours to refuse

    order_no: StrictStr = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    class_code: StrictStr = Field(min_length=1, max_length=8)
    lon: float
    lat: float
    description: StrictStr = Field("", max_length=2000)
    address: StrictStr = Field("", max_length=200)
    caller_name: StrictStr = Field("", max_length=40)
    caller_phone: StrictStr = Field("", max_length=30)
    urgency: StrictStr | None = None


@dataclass(frozen=True)
class Received:
    order_no: str
    case_number: str
    created: bool  # False: the order was already a case (a repeat send)


def receive_order(session: Session, ctx: EngineContext, body: Any) -> Received:
    """File the work order as a case (or find the case it already is). Does not commit."""
    order = _shape(body)
    earlier = _linked(session, order.order_no)
    if earlier is not None:
        return Received(order.order_no, earlier, False)
    caller = " / ".join(p for p in (order.caller_name.strip(), order.caller_phone.strip()) if p)
    report = {"source": Source.HOTLINE, "class_code": order.class_code, "lon": order.lon, "lat": order.lat,
              "description": order.description, "address": order.address,
              "reporter": (caller or f"12345:{order.order_no}")[:100]}
    if order.urgency:
        report["urgency"] = order.urgency
    result = start_case(session, ctx, report, ACTOR)
    session.add(ExchangeLink(peer=str(PeerName.HOTLINE), external_id=order.order_no, case_id=result.case_id,
                             created_at=_filed_at(session, result.case_id)))
    try:
        session.flush()
    except IntegrityError:  # the same order arrived twice at once: the other send made the case
        raise Conflict(f"work order {order.order_no} is being filed by another request; send it again") from None
    return Received(order.order_no, result.number, True)


def _filed_at(session: Session, case_id: int):
    """The instant the command read (one clock read per command), not a second reading."""
    return session.scalar(select(Case.created_at).where(Case.id == case_id))


def _linked(session: Session, order_no: str) -> str | None:
    return session.scalar(select(Case.number).join(ExchangeLink, ExchangeLink.case_id == Case.id)
                          .where(ExchangeLink.peer == str(PeerName.HOTLINE), ExchangeLink.external_id == order_no))


def _shape(body: Any) -> WorkOrder:
    if not isinstance(body, dict):
        raise ValidationError("a work order is a JSON object", {"body": "object expected"})
    try:
        return WorkOrder.model_validate(body)
    except ShapeError as exc:
        fields = {".".join(str(p) for p in err["loc"]) or "body": err["msg"] for err in exc.errors()}
        raise ValidationError("the work order is incomplete or malformed: " + ", ".join(sorted(fields)),
                              fields) from None

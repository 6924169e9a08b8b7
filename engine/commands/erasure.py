"""erase_reporter: remove a reporter's personal data from a case on request (PIPL, 个人信息保护法).

The history never held it: the start event carries only sha256(salt ‖ reporter), and the salt
lives on the case row. Blanking reporter and salt makes the commitment unlinkable to anyone,
while every hash, chain and checkpoint stays as it was — so verify stays green. The erasure is
itself recorded as an ``erasure`` event (who, when; no personal data), which is what tells
verify that the blank reporter is legitimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.commands.frame import CommandFrame
from engine.errors import Conflict, NotFound
from engine.metrics import Command
from engine.model import Actor, EngineContext, EventKind
from engine.models import Case

_ERASE = ("UPDATE case_record SET last_seq = :seq, last_hash = :hash, reporter = '', reporter_salt = NULL "
          "WHERE id = :id AND last_seq = :last_seq")


@dataclass(frozen=True)
class ErasureResult:
    case_id: int
    number: str
    seq: int


def erase_reporter(session: Session, ctx: EngineContext, number: str, actor: Actor) -> ErasureResult:
    case_id = session.scalar(select(Case.id).where(Case.number == number))
    if case_id is None:
        raise NotFound(f"no case {number}")
    with CommandFrame(session, ctx, Command.ERASE_REPORTER) as frame:
        case = frame.case(case_id)
        reporter, salt = session.execute(select(Case.reporter, Case.reporter_salt).where(Case.id == case_id)).one()
        if not reporter and not salt:
            raise Conflict(f"the reporter of case {number} has already been erased")
        seq = frame.annotate(case, actor, EventKind.ERASURE, data={"erased": ["reporter"]}, advance=_ERASE)
        return ErasureResult(case_id, number, seq)


__all__ = ["ErasureResult", "erase_reporter"]

"""What commands return: small frozen dataclasses (``as_dict`` for JSON answers)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from engine.model import CaseStatus


@dataclass(frozen=True)
class CaseResult:
    """A command that changed a case's workflow: where the case stands now."""

    case_id: int
    number: str
    version: int
    status: CaseStatus
    seq: int  # the recorded event's sequence number

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


@dataclass(frozen=True)
class ClaimResult:
    task_id: str
    assignee: str | None  # None after a release

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RatingResult:
    case_id: int
    rating: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

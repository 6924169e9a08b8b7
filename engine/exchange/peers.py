"""The outside platforms citycase reports to, as configured (``EXCHANGE_*`` settings)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PeerName(StrEnum):
    UPWARD = "upward"  # the provincial / national supervision platform: filed and closed cases
    HOTLINE = "12345"  # the city's 12345 hotline platform: progress of the work orders it sent


class MessageType(StrEnum):
    FILED = "case.filed"
    VOIDED = "case.voided"
    INVALID = "case.invalid"
    DISPATCHED = "case.dispatched"
    HANDLED = "case.handled"
    CLOSED = "case.closed"


# What each peer is sent: the upward platform counts cases; 12345 follows its own orders step by step.
PEER_TYPES: dict[PeerName, frozenset[MessageType]] = {
    PeerName.UPWARD: frozenset({MessageType.FILED, MessageType.VOIDED, MessageType.INVALID, MessageType.CLOSED}),
    PeerName.HOTLINE: frozenset(MessageType),
}


@dataclass(frozen=True)
class Peer:
    name: PeerName
    url: str
    secret: str
    platform_id: str  # who we are in the messages (the city's platform code)

    @property
    def linked_only(self) -> bool:
        """12345 hears only about the cases it sent us."""
        return self.name is PeerName.HOTLINE


def peers_from_config(config: dict[str, Any]) -> list[Peer]:
    """The peers with a URL set; a URL without a secret is refused (messages are always signed)."""
    found = []
    for name, url_key, secret_key in ((PeerName.UPWARD, "EXCHANGE_UPWARD_URL", "EXCHANGE_UPWARD_SECRET"),
                                      (PeerName.HOTLINE, "EXCHANGE_HOTLINE_URL", "EXCHANGE_HOTLINE_SECRET")):
        url = str(config.get(url_key) or "").strip()
        if not url:
            continue
        secret = str(config.get(secret_key) or "")
        if not secret:
            raise ValueError(f"{url_key} is set but {secret_key} is empty: every exchange message is signed; "
                             f"set CITYCASE_{secret_key} to the secret agreed with the platform")
        found.append(Peer(name, url, secret, str(config.get("EXCHANGE_PLATFORM_ID") or "citycase")))
    return found

"""Signed JSON requests between citycase and outside systems, both directions.

Used by the notification webhook (SMS gateways, WeChat Work / DingTalk robot bridges, a message bus)
and by the exchange with outside platforms (upward reporting, the 12345 hotline). The signature covers
the timestamp and the exact body bytes: ``hex(HMAC-SHA256(secret, ts + "." + body))``, sent as
``X-Citycase-Timestamp`` (Unix seconds) and ``X-Citycase-Signature: sha256=<hex>``. A receiver
refuses a timestamp further than ``MAX_SKEW`` from its clock, so a captured request cannot be replayed
later, and compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from datetime import datetime, timedelta

MAX_SKEW = timedelta(minutes=5)
TIMESTAMP_HEADER = "X-Citycase-Timestamp"
SIGNATURE_HEADER = "X-Citycase-Signature"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(secret: str, now: datetime, body: bytes) -> dict[str, str]:
    ts = str(int(now.timestamp()))
    return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: signature(secret, ts, body),
            "Content-Type": "application/json; charset=utf-8"}


def post(url: str, body: bytes, secret: str, now: datetime, timeout: float) -> int:
    """POST ``body`` signed at ``now``; the HTTP status (OSError when the receiver cannot be reached)."""
    request = urllib.request.Request(url, data=body, headers=headers(secret, now, body), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (a configured URL)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def check(secret: str, timestamp: str | None, given: str | None, body: bytes, now: datetime) -> str | None:
    """None when the request is signed with ``secret`` and fresh; else why not (for the 401 answer)."""
    if not timestamp or not given:
        return f"unsigned: send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}"
    try:
        sent = int(timestamp)
    except ValueError:
        return f"{TIMESTAMP_HEADER} must be Unix seconds"
    if abs(now.timestamp() - sent) > MAX_SKEW.total_seconds():
        return f"{TIMESTAMP_HEADER} is more than {int(MAX_SKEW.total_seconds() // 60)} minutes from our clock"
    if not hmac.compare_digest(signature(secret, timestamp, body), given):
        return "the signature does not match the body and the shared secret"
    return None

"""Open311 API keys: issued by admins, shown once, stored only as a sha256 hex digest.

A key is ``secrets.token_urlsafe(32)`` (43 characters, 256 bits of randomness), so a plain sha256
is enough: there is nothing to brute-force that a slow hash would protect. Verification looks the
row up by the digest (unique index) and compares digests with ``hmac.compare_digest``. Functions
take a session and never commit (the caller does).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound, ValidationError
from engine.models import ApiKey

MAX_NAME = 100
MAX_KEY_LENGTH = 256  # anything longer is not one of ours; refuse before hashing


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, now: datetime) -> tuple[ApiKey, str]:
    """A new active key named ``name``; returns the row and the plaintext (shown once, never stored)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationError(f"a key needs a name of 1–{MAX_NAME} characters", {"name": "required"})
    if now.tzinfo is None:
        raise ValueError("create_key needs an aware datetime")
    plaintext = secrets.token_urlsafe(32)
    row = ApiKey(name=name, key_hash=hash_key(plaintext), created_at=now, active=True)
    session.add(row)
    session.flush()
    return row, plaintext


def verify_key(session: Session, plaintext: str | None) -> ApiKey | None:
    """The active key matching ``plaintext``, else None."""
    if not isinstance(plaintext, str) or not plaintext or len(plaintext) > MAX_KEY_LENGTH:
        return None
    digest = hash_key(plaintext)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if row is None or not hmac.compare_digest(row.key_hash, digest) or not row.active:
        return None
    return row


def revoke(session: Session, key_id: int) -> ApiKey:
    """Deactivate a key (kept for the record); NotFound when there is no such key."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    row.active = False
    session.flush()
    return row


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


__all__ = ["create_key", "verify_key", "revoke", "list_keys", "hash_key"]

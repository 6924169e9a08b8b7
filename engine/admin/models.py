"""The admin history table: every change made on the administration pages, append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class AdminEvent(Base):
    """One admin change: who, when, what (kind + target), the record before and after.

    hash = sha256(prev_hash + canonical entry), one chain over the table (like the access log);
    the database refuses UPDATE and DELETE (migration 0011's triggers)."""

    __tablename__ = "admin_event"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(100))
    before: Mapped[str] = mapped_column(Text)  # canonical JSON, "null" for a creation
    after: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

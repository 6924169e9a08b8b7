"""The tables of notifications to people: each user's channels and quiet hours, and in-page notices.

A *message* is an outbox row a BPMN ``notify`` service wrote (kind, to, text) or the engine's
emergency alert; ``engine.notify.fanout`` turns it into one ``notice`` per person it concerns
(what the person's notices page shows) and one outbox row per channel that person receives.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class Channel(StrEnum):
    """Ways a notice leaves the system (configured per deployment: CITYCASE_NOTIFY_CHANNELS)."""

    EMAIL = "email"  # SMTP
    WEBHOOK = "webhook"  # signed JSON POST: SMS gateway, WeChat Work / DingTalk robot, a message bus

    @property
    def outbox_kind(self) -> str:
        return f"notify.{self.value}"


class NotificationSetting(Base):
    """One user's addresses and preferences; no row = defaults (every channel on, no quiet hours)."""

    __tablename__ = "notification_setting"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    email_on: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    webhook_on: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    quiet_from: Mapped[str | None] = mapped_column(String(5))  # "22:00", city time; emergencies ignore it
    quiet_to: Mapped[str | None] = mapped_column(String(5))  # "07:00"


class Notice(Base):
    """A message as one person sees it in the page (and as its channels send it)."""

    __tablename__ = "notice"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    message_id: Mapped[int] = mapped_column(BigInteger)  # the outbox row it came from
    case_id: Mapped[int | None] = mapped_column(Integer)
    case_number: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    username: Mapped[str] = mapped_column(String(64))
    emergency: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("message_id", "username", name="uq_notice_message_user"),
                      Index("ix_notice_user_created", "username", "created_at"))

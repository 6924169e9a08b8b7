"""The patrol tables: the roster (who is due on which day, when, in which cells), duty periods
(started and ended on the phone) and positions (one row per point, unique per user and instant,
so a batch sent twice or two batches in any order store each point once)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class Attendance(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"  # started more than the grace after the shift's start
    EARLY = "early"  # ended more than the grace before the shift's end
    LATE_AND_EARLY = "late_and_early"
    ABSENT = "absent"  # no duty during the shift
    ON_DUTY = "on_duty"  # started on time and still on duty (the shift is not over)
    NOT_STARTED = "not_started"  # the shift has not begun yet (nobody is late before it)


class RosterEntry(Base):
    """One supervisor's shift on one day: its instants (UTC) and the grid cells to patrol."""

    __tablename__ = "patrol_roster"
    __table_args__ = (UniqueConstraint("username", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date, index=True)  # the city's local date
    shift_start: Mapped[datetime] = mapped_column(UTCDateTime)
    shift_end: Mapped[datetime] = mapped_column(UTCDateTime)
    grid_codes: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of 15-digit cell codes


class Duty(Base):
    """A period on duty: started and ended by the supervisor (ended_at None while on duty)."""

    __tablename__ = "patrol_duty"
    __table_args__ = (Index("ix_patrol_duty_user_start", "username", "started_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Position(Base):
    """One point of a track, as the phone measured it (``at``) and when it arrived."""

    __tablename__ = "patrol_position"
    # (username, at): one point per instant; (at): a day's cells for everybody (coverage).
    __table_args__ = (UniqueConstraint("username", "at"), Index("ix_patrol_position_at", "at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy: Mapped[float | None] = mapped_column(Float)  # metres, as the phone reports it
    grid_code: Mapped[str | None] = mapped_column(String(15))  # None: outside the city's grid
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""Shared by the notification and sub-center tests: people on duty, their settings, their notices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.models import User
from engine.notify.models import Notice, NotificationSetting
from engine.passwords import hash_password

PASSWORD = "demo1234"


def add_user(db, username: str, role: str, *, district: str | None = None, department: str | None = None,
             on_duty: bool = False, **setting: Any) -> None:
    """A user (password demo1234) and, when ``setting`` is given, their notification setting."""
    with db.session() as s:
        user = User(username=username, display_name=username, password_hash=hash_password(PASSWORD), role=role,
                    department_code=department, district_code=district, active=True, on_duty=on_duty)
        s.add(user)
        s.flush()
        if setting:
            s.add(NotificationSetting(user_id=user.id, **setting))


def notices_of(db, username: str) -> list[Notice]:
    with db.session() as s:
        rows = list(s.scalars(select(Notice).where(Notice.username == username).order_by(Notice.id)))
        s.expunge_all()
        return rows

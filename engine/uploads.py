"""Uploads that no command ever referred to are collected.

A photo sent with a report or a task form is stored in the same transaction as the command, so it
exists only if the command committed. A photo uploaded ahead (``POST /attachments``, for the
mobile page's progress bar) waits, unbound, for the command that names its token; if none comes
within the grace period, it is deleted here (``citycase uploads collect``, e.g. from cron).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine.models import Attachment

DEFAULT_GRACE = timedelta(hours=24)


def collect_orphans(session: Session, now: datetime, grace: timedelta = DEFAULT_GRACE) -> int:
    """Delete uploads bound to no case and older than ``grace``; how many. Does not commit."""
    result = session.execute(delete(Attachment).where(Attachment.case_id.is_(None),
                                                      Attachment.uploaded_at < now - grace))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

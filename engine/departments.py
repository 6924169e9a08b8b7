"""Each department's district, cached per database for a few seconds (read on the command path).

Task rows of a case handled by another district's department go up to the city centre
(engine.queries.visibility.task_district); the projection asks here instead of the database
each time. Departments change rarely (admin pages); a few seconds' delay is harmless.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Department

MAX_AGE_SECONDS = 5.0
_cache: dict[str, tuple[float, dict[str, str | None]]] = {}
_lock = threading.Lock()


def department_districts(session: Session) -> dict[str, str | None]:
    """{department code: its district (None = city-wide)} of the session's database."""
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    now = time.monotonic()  # cache age only, never a business time
    with _lock:
        cached = _cache.get(key)
    if cached is not None and now - cached[0] < MAX_AGE_SECONDS:
        return cached[1]
    districts = dict(session.execute(select(Department.code, Department.district_code)).tuples().all())
    with _lock:
        _cache[key] = (now, districts)
    return districts

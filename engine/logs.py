"""Log lines that say whose request and which case they belong to, as text or as JSON.

Three context variables travel with the work: the request id and the user (set by the web app
for each request) and the case number (set by the command frame while a command works on a
case). ``ContextFilter`` copies them onto every record; ``configure_logging`` installs one
handler on the root logger with either the text or the JSON formatter (config key LOG_FORMAT),
so gunicorn's, Flask's, APScheduler's and citycase's own lines all come out the same way.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from enum import StrEnum
from typing import IO

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: ContextVar[str | None] = ContextVar("citycase_request_id", default=None)
USER: ContextVar[str | None] = ContextVar("citycase_user", default=None)
CASE_NUMBER: ContextVar[str | None] = ContextVar("citycase_case_number", default=None)

_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s %(case)s]: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user)s %(case)s"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class ContextFilter(logging.Filter):
    """Adds request_id, user and case (None outside a request or a command) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.user = USER.get()
        record.case = CASE_NUMBER.get()
        return True


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test runner or a CLI may swap it), unless set."""

    def __init__(self) -> None:
        super().__init__()
        self._chosen: IO[str] | None = None

    @property
    def stream(self) -> IO[str]:
        return self.__dict__.get("_chosen") or sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        self.__dict__["_chosen"] = None if value is sys.stderr else value


def formatter(fmt: LogFormat) -> logging.Formatter:
    if fmt is LogFormat.JSON:
        return JsonFormatter(_JSON_FIELDS, rename_fields={"levelname": "level", "asctime": "time"})
    return logging.Formatter(_TEXT)


_CHATTY = ("apscheduler", "alembic.runtime.plugins")


def configure_logging(fmt: LogFormat | str, level: int = logging.INFO, stream: IO[str] | None = None) -> logging.Handler:
    """Install (or replace) citycase's handler on the root logger; the handler."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "citycase", False)]:
        root.removeHandler(old)
    handler = _Stderr()
    if stream is not None:
        handler.setStream(stream)
    handler.citycase = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(LogFormat(fmt)))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that narrate routine work at INFO (every scheduler tick, every migration plugin)
    # would bury what an operator needs to see; their warnings and errors still come through.
    for chatty in _CHATTY:
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
    return handler

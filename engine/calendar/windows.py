"""Work windows ("08:30-12:00,13:30-17:30"): parsing, checking and their JSON form, and time zones."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_WINDOWS = "08:30-12:00,13:30-17:30"
DEFAULT_TZ = "Asia/Shanghai"

Window = tuple[time, time]

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def _parse_hhmm(text: str, whole: str) -> time:
    m = _HHMM.match(text)
    if not m:
        raise ValueError(f"bad time {text.strip()!r} in work windows {whole!r}: use HH:MM, e.g. 08:30")
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"bad time {text.strip()!r} in work windows {whole!r}: hours 00-23, minutes 00-59")
    return time(hour, minute)


def _check_windows(windows: list[Window], whole: str) -> list[Window]:
    for start, end in windows:
        if start >= end:
            raise ValueError(
                f"work window {start:%H:%M}-{end:%H:%M} in {whole!r} ends before it starts"
                " (windows cannot cross midnight)"
            )
    windows = sorted(windows)
    for (s1, e1), (s2, e2) in zip(windows, windows[1:], strict=False):
        if s2 < e1:
            raise ValueError(f"work windows {s1:%H:%M}-{e1:%H:%M} and {s2:%H:%M}-{e2:%H:%M} in {whole!r} overlap")
    return windows


def parse_windows(text: str) -> list[Window]:
    """Parse ``"08:30-12:00,13:30-17:30"`` into sorted, non-overlapping ``(start, end)`` local times.

    Raises ``ValueError`` saying what is wrong for empty text, bad times, empty or overlapping windows.
    """
    if not isinstance(text, str):
        raise ValueError(f"work windows must be a string like '08:30-12:00,13:30-17:30', not {text!r}")
    if not text.strip():
        raise ValueError("work windows are empty: give at least one window like '08:30-12:00'")
    windows: list[Window] = []
    for part in text.split(","):
        if not part.strip():
            raise ValueError(f"empty work window in {text!r}: separate windows with single commas")
        pieces = part.split("-")
        if len(pieces) != 2:
            raise ValueError(f"bad work window {part.strip()!r} in {text!r}: use HH:MM-HH:MM, e.g. 08:30-12:00")
        windows.append((_parse_hhmm(pieces[0], text), _parse_hhmm(pieces[1], text)))
    return _check_windows(windows, text)


def format_windows(windows: Sequence[Window]) -> str:
    """The inverse of ``parse_windows``: ``"08:30-12:00,13:30-17:30"``."""
    return ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in windows)


def windows_to_json(windows: Sequence[Window]) -> str:
    """The ``CalendarDay.windows`` column format: ``[["08:30","12:00"],["13:30","17:30"]]``."""
    return json.dumps([[f"{s:%H:%M}", f"{e:%H:%M}"] for s, e in windows])


def windows_from_json(text: str | None) -> list[Window]:
    """Read the ``CalendarDay.windows`` column; ``""``/``None``/``"[]"`` give ``[]``."""
    if not text:
        return []
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"calendar windows {text!r} are not JSON: {exc}") from None
    if not isinstance(raw, list):
        raise ValueError(f"calendar windows {text!r} must be a JSON list of [start, end] pairs")
    return coerce_windows(raw)


def coerce_windows(value: Any) -> list[Window]:
    """Accept a windows string, ``[(time, time), …]`` or JSON-style ``[["08:30", "12:00"], …]``."""
    if value is None:
        return []
    if isinstance(value, str):
        return parse_windows(value) if value.strip() else []
    windows: list[Window] = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError(f"bad work window {item!r}: expected a [start, end] pair")
        start, end = (_parse_hhmm(x, str(value)) if isinstance(x, str) else x for x in item)
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"bad work window {item!r}: expected times or 'HH:MM' strings")
        windows.append((start.replace(tzinfo=None), end.replace(tzinfo=None)))
    return _check_windows(windows, str(value))


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {tz!r}: use an IANA name such as 'Asia/Shanghai'") from None

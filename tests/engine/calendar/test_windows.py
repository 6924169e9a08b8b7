"""Work windows: parsing and refusing malformed ones."""

from __future__ import annotations

from datetime import time

import pytest

from engine.calendar import (
    parse_windows,
)


def test_parse_windows():
    assert parse_windows("08:30-12:00,13:30-17:30") == [(time(8, 30), time(12)), (time(13, 30), time(17, 30))]
    assert parse_windows(" 13:30-17:30 , 8:30-12:00 ") == [(time(8, 30), time(12)), (time(13, 30), time(17, 30))]


@pytest.mark.parametrize("bad", ["", "  ", "08:30", "08:30-12:00,", "8-12", "25:00-26:00", "12:00-08:30",
                                 "08:30-12:00,11:00-13:00", "08:30-12:00-13:00", "08:60-09:00"])
def test_parse_windows_rejects(bad):
    with pytest.raises(ValueError):
        parse_windows(bad)

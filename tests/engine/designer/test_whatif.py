"""What-if: the same simulated city on two versions shows the effect of a change before anyone is held to it."""

from __future__ import annotations

import pytest

from engine.designer.whatif import compare
from engine.errors import ValidationError
from tests.engine.designer.helpers import bpmn_files


def _all_limits(files, value: str):
    """Every handling limit set to ``value`` work hours (a drastic change whose effect must show)."""
    import re

    dmn = re.sub(r'(<outputEntry id="Out_time_limits_\d+_0"><text>)[^<]*', rf"\g<1>{value}", files["time_limits.dmn"])
    dmn = re.sub(r'(<outputEntry id="Out_time_limits_\d+_1"><text>)[^<]*', r'\g<1>"workhour"', dmn)
    return {**files, "time_limits.dmn": dmn}


def test_shorter_limits_make_more_cases_overdue():
    before = bpmn_files()
    result = compare(before, _all_limits(before, "0.25"), seed=3, days=2, cases_per_day=25)
    assert result.before.cases == result.after.cases > 0
    assert result.after.overdue > result.before.overdue
    assert result.after.met < result.before.met
    assert sum(result.before.per_department.values()) == result.before.cases


def test_limits_on_the_size_of_a_run():
    with pytest.raises(ValidationError):
        compare(bpmn_files(), bpmn_files(), days=0)


def test_the_same_version_twice_gives_the_same_figures():
    # Both runs share one process: nothing of the first (scripted plans, caches) may leak into the second.
    result = compare(bpmn_files(), bpmn_files(), seed=5, days=1, cases_per_day=30)
    assert result.before == result.after
    assert result.before.cases == 30

"""The follow-up link's read side: the case by its token, milestones without names or notes."""

from __future__ import annotations

import pytest

from engine.errors import NotFound
from engine.queries.public import follow_token, milestones, public_case


def test_follow_up_by_token(city, clock, cases):
    with city.session() as s:
        token = follow_token(s, cases.handle_a.case_id)
        assert token and len(token) >= 16
        case = public_case(s, token)
        assert case.id == cases.handle_a.case_id and case.status == "open" and not case.may_rate
        steps = milestones(s, case.id)
        assert [m.step for m in steps] == ["verify", "accept", "file", "dispatch"]
        assert [m.decision for m in steps] == [None, "file", "file", None]
        assert all(set(vars(m)) == {"at", "step", "decision"} for m in steps)  # no actor, no notes
        for bad in ("", "short", token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x" * 64):
            with pytest.raises(NotFound):
                public_case(s, bad)

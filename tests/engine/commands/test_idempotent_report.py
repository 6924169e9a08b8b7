"""A report sent twice with the same idempotency key makes one case (a phone that lost its network
and sent its draft again, a double tap); another key or another reporter makes another case."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.commands import start_case
from engine.errors import ValidationError
from engine.model import Actor, EngineContext
from engine.models import Case, Event
from tests.factories import report

SUPERVISOR = Actor("supervisor1", "supervisor", None, "330191")
KEY = "draft-0123456789abcdef"


def _count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_same_key_same_reporter_gives_the_same_case(city, clock):
    before = _count(city)
    with city.session() as s:
        first = start_case(s, EngineContext(clock), report(city.city, source="supervisor"), SUPERVISOR,
                           idempotency_key=KEY)
        s.commit()
    with city.session() as s:
        again = start_case(s, EngineContext(clock), report(city.city, source="supervisor"), SUPERVISOR,
                           idempotency_key=KEY)
        s.commit()
    assert again.case_id == first.case_id and again.number == first.number
    assert _count(city) == before + 1
    with city.session() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.case_id == first.case_id,
                                                                      Event.kind == "start")) == 1


def test_other_key_or_other_reporter_makes_another_case(city, clock):
    other = Actor("supervisor2", "supervisor", None, "330191")
    with city.session() as s:
        a = start_case(s, EngineContext(clock), report(city.city, source="supervisor"), SUPERVISOR,
                       idempotency_key=KEY)
        b = start_case(s, EngineContext(clock), report(city.city, source="supervisor"), other, idempotency_key=KEY)
        c = start_case(s, EngineContext(clock), report(city.city, source="supervisor"), SUPERVISOR,
                       idempotency_key=KEY + "x")
        s.commit()
    assert len({a.case_id, b.case_id, c.case_id}) == 3


def test_a_refused_report_keeps_no_receipt(city, clock):
    bad = report(city.city, source="supervisor", class_code="E9999")
    with city.session() as s:
        with pytest.raises(ValidationError):
            start_case(s, EngineContext(clock), bad, SUPERVISOR, idempotency_key=KEY)
        s.rollback()
    with city.session() as s:
        good = start_case(s, EngineContext(clock), report(city.city, source="supervisor"), SUPERVISOR,
                          idempotency_key=KEY)
        s.commit()
    assert good.number


def test_a_short_key_is_refused(city, clock):
    with city.session() as s, pytest.raises(ValidationError):
        start_case(s, EngineContext(clock), report(city.city, source="supervisor"), SUPERVISOR, idempotency_key="x")

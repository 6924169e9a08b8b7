"""Possible duplicates while reporting: same class within the radius, or the same component, open,
recent; not other classes, not far away, not closed, not outside the staff member's scope."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.commands import start_case
from engine.model import Actor, EngineContext
from engine.models import Component
from engine.queries.similar import distance_m, similar_open_cases
from tests.factories import ACCEPTOR, report

CITIZEN = Actor("citizen", "citizen")


def _report(db, clock, **overrides):
    with db.session() as s:
        result = start_case(s, EngineContext(clock), report(db.city, **overrides), CITIZEN)
        s.commit()
    return result


def test_same_class_nearby_is_suggested_and_others_are_not(city, clock):
    lon, lat = city.city["center"]
    near = _report(city, clock, lon=lon + 0.0002, lat=lat)  # about 19 m east
    _report(city, clock, lon=lon + 0.002, lat=lat)  # about 190 m: too far
    _report(city, clock, lon=lon, lat=lat, class_code="E0101")  # another class
    with city.session() as s:
        found = similar_open_cases(s, ACCEPTOR, class_code="E0102", lon=lon, lat=lat, component_id=None,
                                   at=clock.now())
        assert [c.number for c in found] == [near.number]
        assert 10 < found[0].distance_m < 30
        later = similar_open_cases(s, None, class_code="E0102", lon=lon, lat=lat, component_id=None,
                                   at=clock.now() + timedelta(days=30))
        assert later == []  # reported too long ago


def test_same_component_is_suggested(city, clock):
    with city.session() as s:
        component = s.scalars(select(Component).order_by(Component.id).limit(1)).one()
        cid, code = component.id, component.class_code
    first = _report(city, clock, component_id=cid, class_code=code, lon=None, lat=None)
    with city.session() as s:
        found = similar_open_cases(s, None, class_code=code, lon=None, lat=None, component_id=cid, at=clock.now())
    assert [c.number for c in found] == [first.number] and found[0].distance_m == 0


def test_distance_is_in_metres():
    assert abs(distance_m(120.0, 30.0, 120.0, 30.001) - 111.2) < 0.5

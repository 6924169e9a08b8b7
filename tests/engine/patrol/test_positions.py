"""Position batches from the phone: out of order, twice, late (offline), refused whole when bad."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.errors import ValidationError
from engine.patrol.coverage import track
from engine.patrol.duty import end_duty, start_duty
from engine.patrol.models import Position
from engine.patrol.positions import MAX_POINTS, record_batch
from tests.engine.patrol.kit import DAY, TZ, cells, local, point, walk


def _stored(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Position))


def test_batches_arriving_out_of_order_give_one_track_in_time_order(city):
    places = cells(city, 3)
    with city.session() as s:
        start_duty(s, "supervisor1", local("08:30"))
    points = walk(local("09:00"), places)
    first, second = points[:4], points[4:]
    with city.session() as s:
        late = record_batch(s, "supervisor1", {"points": second}, local("09:10"))
        early = record_batch(s, "supervisor1", {"points": first}, local("09:11"))
    assert (late.stored, early.stored) == (len(second), len(first))
    with city.session() as s:
        got = track(s, "supervisor1", DAY, TZ)
    assert [p.at for p in got] == sorted(p.at for p in got)
    assert [p.grid_code for p in got] == [code for code, _, _ in places for _ in range(3)]


def test_a_batch_sent_twice_stores_each_point_once(city):
    places = cells(city, 2)
    with city.session() as s:
        start_duty(s, "supervisor1", local("08:30"))
    batch = {"points": walk(local("09:00"), places)}
    with city.session() as s:
        record_batch(s, "supervisor1", batch, local("09:05"))
    with city.session() as s:
        again = record_batch(s, "supervisor1", batch, local("09:06"))
    assert (again.stored, again.duplicates) == (0, len(batch["points"]))
    assert _stored(city) == len(batch["points"])


def test_points_kept_offline_and_sent_after_the_duty_ended_still_count(city):
    (code, lon, lat), = cells(city, 1)
    with city.session() as s:
        start_duty(s, "supervisor1", local("08:30"))
        end_duty(s, "supervisor1", local("12:00"))
    # The phone was offline from 10:00; back in signal at 18:00 it sends what it kept.
    kept = [point(local("10:00") + timedelta(minutes=i), lon, lat) for i in range(5)]
    after = [point(local("12:30"), lon, lat)]  # recorded after the duty ended: not the duty's track
    with city.session() as s:
        result = record_batch(s, "supervisor1", {"points": kept + after}, local("18:00"))
    assert (result.stored, result.outside_duty) == (5, 1)
    with city.session() as s:
        assert {p.grid_code for p in track(s, "supervisor1", DAY, TZ)} == {code}


@pytest.mark.parametrize("bad", [
    {"points": []},
    {"points": "nope"},
    {"points": [{"at": "2026-11-25T09:00:00", "lon": 120.1, "lat": 30.2}]},  # no time zone
    {"points": [{"at": "2026-11-25T09:00:00+08:00", "lon": 200, "lat": 30.2}]},
    {"points": [{"at": "2026-11-25T11:00:00+08:00", "lon": 120.1, "lat": 30.2}]},  # future
    {"points": [{"at": "2026-11-01T09:00:00+08:00", "lon": 120.1, "lat": 30.2}]},  # too old
    {"points": [{"at": "2026-11-25T09:00:00+08:00", "lon": "120.1", "lat": 30.2}]},
    {"points": [{"at": "2026-11-25T09:00:00+08:00", "lon": 120.1, "lat": 30.2, "speed": 3}]},
], ids=["empty", "not-a-list", "naive-time", "lon-range", "future", "too-old", "string-lon", "unknown-field"])
def test_a_bad_batch_is_refused_whole_and_writes_nothing(city, bad):
    (_code, lon, lat), = cells(city, 1)
    with city.session() as s:
        start_duty(s, "supervisor1", local("08:30"))
    good = point(local("09:00"), lon, lat)
    if isinstance(bad["points"], list) and bad["points"]:  # a good point first: the batch is refused whole
        bad = {"points": [good, *bad["points"]]}
    with pytest.raises(ValidationError), city.session() as s:
        record_batch(s, "supervisor1", bad, local("09:30"))
    assert _stored(city) == 0


def test_a_batch_larger_than_the_limit_is_refused(city):
    (_code, lon, lat), = cells(city, 1)
    points = [point(local("09:00") + timedelta(seconds=i), lon, lat) for i in range(MAX_POINTS + 1)]
    with pytest.raises(ValidationError), city.session() as s:
        record_batch(s, "supervisor1", {"points": points}, local("10:00"))

"""Component import (16-digit ids, in the grid) and the working calendar's admin commands."""

from __future__ import annotations

from datetime import date

import orjson
import pytest
from sqlalchemy import select

from engine.admin import calendar as cal
from engine.admin.components import ComponentImportRefused, import_components
from engine.admin.history import entries
from engine.calendar.store import load_calendar
from engine.models import CalendarDay, Component
from tests.web.webkit import cell_in


def _csv(*rows: str) -> bytes:
    return ("id,class_code,name,lon,lat,owners\n" + "\n".join(rows) + "\n").encode()


def test_components_from_csv_and_geojson(city, clock, admin):
    lon, lat = cell_in(city, "330191")
    csv_data = _csv(f"3301910101900001,C0101,上水井盖,{lon},{lat},water_supply")
    geo = orjson.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {"id": "3301910118900002", "class_code": "C0118", "name": "路灯"}}]})
    with city.session() as s:
        assert import_components(s, admin, clock.now(), csv_data, "a.csv").created == 1
        assert import_components(s, admin, clock.now(), geo, "b.geojson").created == 1
    with city.session() as s:
        first = s.get(Component, "3301910101900001")
        assert first.grid_code.startswith("330191") and first.owner_departments == '["water_supply"]'
        assert s.get(Component, "3301910118900002").class_code == "C0118"
        assert [e.kind for e in entries(s)] == ["components_imported", "components_imported"]


def test_bad_component_rows_are_named_and_nothing_written(city, clock, admin):
    lon, lat = cell_in(city, "330191")
    data = _csv(f"3301910101900003,C0101,ok,{lon},{lat},",
                f"33019101019,C0101,short id,{lon},{lat},",
                f"3301910102900004,C0101,wrong class digits,{lon},{lat},",
                "3301910101900005,C0101,outside,10.0,10.0,",
                f"3301910101900006,E0102,an event class,{lon},{lat},",
                f"3301910101900007,C0101,bad owner,{lon},{lat},nobody")
    with pytest.raises(ComponentImportRefused) as err, city.session() as s:
        import_components(s, admin, clock.now(), data, "c.csv")
    assert [(p.row, p.field) for p in err.value.problems] == [
        (2, "id"), (3, "class_code"), (4, "lon/lat"), (5, "class_code"), (6, "owners")]
    with city.session() as s:
        assert s.get(Component, "3301910101900003") is None and entries(s) == []


def test_mark_days_and_see_them_in_the_year(city, clock, admin):
    with city.session() as s:
        cal.mark_day(s, admin, clock.now(), date(2026, 12, 5), cal.DayMark.MAKEUP)  # a Saturday
        cal.mark_day(s, admin, clock.now(), date(2026, 12, 7), cal.DayMark.HOLIDAY, "城市节")
    with city.session() as s:
        view = {v.day: v for v in cal.year_view(s, 2026)}
        assert view[date(2026, 12, 5)].is_working and view[date(2026, 12, 5)].note == "调休上班"
        assert not view[date(2026, 12, 7)].is_working and view[date(2026, 12, 7)].source == "admin"
        calendar = load_calendar(s, "Asia/Shanghai", "08:30-12:00,13:30-17:30")
        assert calendar.is_working_day(date(2026, 12, 5)) and not calendar.is_working_day(date(2026, 12, 7))
        assert [e.target for e in entries(s)] == ["calendar:2026-12-07", "calendar:2026-12-05"]


SCHEDULE_CSV = "date,type,note\n2028-01-01,holiday,元旦\n2028-01-29,workday,春节调休上班\n".encode()


@pytest.mark.parametrize("data,filename", [
    (SCHEDULE_CSV, "2028.csv"),
    (orjson.dumps({"year": 2028, "days": [{"date": "2028-01-01", "type": "holiday", "note": "元旦"},
                                          {"date": "2028-01-29", "type": "workday"}]}), "2028.json"),
])
def test_import_a_year_and_december_warning(city, clock, admin, data, filename):
    with city.session() as s:
        assert cal.next_year_missing(s, date(2027, 12, 1)) == 2028
        assert cal.next_year_missing(s, date(2027, 11, 30)) is None  # only December warns
        assert cal.import_year(s, admin, clock.now(), data, filename) == 2028
    with city.session() as s:
        assert cal.next_year_missing(s, date(2027, 12, 1)) is None
        days = {r.day: r for r in s.scalars(select(CalendarDay).where(CalendarDay.day >= date(2028, 1, 1)))}
        assert len(days) == 366
        assert not days[date(2028, 1, 1)].is_working and days[date(2028, 1, 29)].is_working  # a Saturday worked
        assert days[date(2028, 1, 3)].is_working and not days[date(2028, 1, 2)].is_working  # Monday / Sunday


@pytest.mark.parametrize("data", [b"date,type\n2028-01-01,party\n", b"date,type\n2028-13-01,holiday\n",
                                  b"date,type\n2028-01-01,holiday\n2029-01-01,holiday\n", b"\xff\xfe"])
def test_bad_schedules_are_refused(city, clock, admin, data):
    from engine.errors import ValidationError

    with pytest.raises(ValidationError), city.session() as s:
        cal.import_year(s, admin, clock.now(), data, "x.csv")
    with city.session() as s:
        assert entries(s) == []

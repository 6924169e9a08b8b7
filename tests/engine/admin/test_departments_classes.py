"""Departments and problem classes from the admin commands, both class code schemes."""

from __future__ import annotations

import pytest

from engine.admin import classes, departments
from engine.admin.history import entries
from engine.errors import Conflict, ValidationError
from engine.models import Department, ProblemClass

DEPT = departments.DepartmentFields(name="海港区园林处", handler_type="greening", name_en="Haigang greening",
                                    district_code="330191")
CLASS = classes.ClassFields(major_name="市容环境", name="绿地脏乱", handler_type="greening", suggested_limit=2,
                            suggested_unit="workday", urgency="normal")


def test_department_create_edit_deactivate(city, clock, admin):
    with city.session() as s:
        departments.create_department(s, admin, clock.now(), "greening@330191x", DEPT)
        departments.change_department(s, admin, clock.now(), "greening@330191x", DEPT, active=False)
    with city.session() as s:
        dept = s.get(Department, "greening@330191x")
        assert dept.district_code == "330191" and not dept.active
        history = entries(s, target="greening@330191x")
    assert [e.kind for e in history] == ["department_changed", "department_created"]
    assert '"active":true' in history[0].before and '"active":false' in history[0].after


def test_department_refusals(city, clock, admin):
    with pytest.raises(Conflict), city.session() as s:
        departments.create_department(s, admin, clock.now(), "sanitation", DEPT)
    with pytest.raises(ValidationError) as err, city.session() as s:
        departments.create_department(s, admin, clock.now(), "x y", departments.DepartmentFields("", "Bad Type"))
    assert {"code", "name", "handler_type"} <= set(err.value.fields)


@pytest.mark.parametrize("digits,code,scheme", [("0199", "E0199", "legacy"), ("01099", "E01099", "platform5")])
def test_class_in_either_scheme(city, clock, admin, digits, code, scheme):
    with city.session() as s:
        pc = classes.create_class(s, admin, clock.now(), "event", digits, CLASS)
        assert pc.code == code
    with city.session() as s:
        pc = s.get(ProblemClass, code)
        assert (pc.scheme, pc.major, pc.minor, pc.active) == (scheme, "01", digits, True)
        classes.change_class(s, admin, clock.now(), code, CLASS, active=False)
    with city.session() as s:
        assert not s.get(ProblemClass, code).active
        assert [e.kind for e in entries(s, target=code)] == ["class_changed", "class_created"]


@pytest.mark.parametrize("digits", ["012", "012345", "01a2", ""])
def test_class_codes_of_other_lengths_are_refused(city, clock, admin, digits):
    with pytest.raises(ValidationError) as err, city.session() as s:
        classes.create_class(s, admin, clock.now(), "event", digits, CLASS)
    assert "digits" in err.value.fields


def test_existing_class_code_is_a_conflict(city, clock, admin):
    with pytest.raises(Conflict), city.session() as s:
        classes.create_class(s, admin, clock.now(), "event", "0102", CLASS)


def test_a_new_class_is_flagged_until_the_dispatch_table_names_it(city, clock, admin):
    with city.session() as s:
        assert "E0102" not in classes.classes_without_dispatch_rule(s)  # the deployed table routes it
        classes.create_class(s, admin, clock.now(), "event", "06123", CLASS)
        assert "E06123" in classes.classes_without_dispatch_rule(s)

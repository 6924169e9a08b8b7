"""Validation lists every problem of a proposal with its file and element; malicious files are refused."""

from __future__ import annotations

import re

from engine.designer.validation import validate
from tests.engine.designer.helpers import bpmn_files, with_first_limit


def _found(files, session=None) -> set[tuple[str, str, str | None]]:
    return {(p.kind, p.file, p.element_id) for p in validate(files, session)}


def test_the_shipped_files_have_no_problems(city):
    with city.session() as s:
        assert validate(bpmn_files(), s) == []


def test_each_problem_names_its_element():
    files = bpmn_files()
    bpmn = files["case_lifecycle.bpmn"]
    bpmn = bpmn.replace("<bpmn:flowNodeRef>accept</bpmn:flowNodeRef>", "", 1)  # accept leaves its lane
    bpmn = bpmn.replace('targetRef="accept"', 'targetRef="gw_source"')  # and no flow leads to it
    files = with_first_limit({**files, "case_lifecycle.bpmn": bpmn}, "0")
    found = _found(files)
    assert ("lane", "case_lifecycle.bpmn", "accept") in found
    assert ("unreachable", "case_lifecycle.bpmn", "accept") in found
    assert ("time_limit", "time_limits.dmn", "Rule_time_limits_1") in found


def test_untyped_form_field_and_bad_dmn_output():
    files = bpmn_files()
    form = files["forms/check.form"].replace('"type": "radio"', '"type": "mystery"', 1)
    dmn = files["time_limits.dmn"].replace('<text>"minute"</text>', "<text>7</text>", 1)
    found = _found({**files, "forms/check.form": form, "time_limits.dmn": dmn})
    assert ("form", "forms/check.form", "Field_verdict") in found
    assert ("dmn", "time_limits.dmn", "Out_time_limits_1_1") in found


def test_sandbox_escapes_and_entities_are_refused_with_the_element():
    files = bpmn_files()
    bpmn = files["case_lifecycle.bpmn"]
    condition = re.search(r"(<bpmn:sequenceFlow id=\"(\w+)\"[^>]*>\s*<bpmn:conditionExpression[^>]*>)[^<]*", bpmn)
    escaped = bpmn.replace(condition.group(0), condition.group(1) + "().__class__.__bases__[0].__subclasses__()", 1)
    assert ("malicious", "case_lifecycle.bpmn", condition.group(2)) in _found({**files, "case_lifecycle.bpmn": escaped})
    dmn = files["dispatch.dmn"].replace('"water_supply"', 'open("/etc/passwd").read()', 1)
    assert ("malicious", "dispatch.dmn", "Out_dispatch_1_0") in _found({**files, "dispatch.dmn": dmn})
    xxe = ('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
           + files["dispatch.dmn"].split("?>", 1)[1])
    problems = validate({**files, "dispatch.dmn": xxe})
    assert [(p.kind, p.file) for p in problems] == [("malicious", "dispatch.dmn")]
    assert "/etc/passwd" not in problems[0].message or "DOCTYPE" in problems[0].message


def test_unknown_department_needs_the_database(city):
    files = bpmn_files()
    dmn = files["dispatch.dmn"].replace('"water_supply"', '"moon_base"', 1)
    with city.session() as s:
        assert _found({**files, "dispatch.dmn": dmn}, s) == {("department", "dispatch.dmn", "Rule_dispatch_1")}


def test_schema_errors_point_at_the_element():
    files = bpmn_files()
    bpmn = files["case_lifecycle.bpmn"].replace('<bpmn:userTask id="verify"', '<bpmn:userTask id="verify" bogus="1"', 1)
    found = _found({**files, "case_lifecycle.bpmn": bpmn})
    assert ("schema", "case_lifecycle.bpmn", "verify") in found

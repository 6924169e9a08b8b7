"""The diff between two versions names BPMN elements, DMN rules and form fields by id."""

from __future__ import annotations

import json

from engine.designer.diff import diff_files
from tests.engine.designer.helpers import bpmn_files, with_department, with_first_limit


def test_identical_versions_have_no_changes():
    assert diff_files(bpmn_files(), bpmn_files()).empty


def test_dmn_rows_bpmn_elements_and_form_fields_are_named():
    old = bpmn_files()
    new = with_first_limit(with_department(old, "E0102", "sanitation@330192"), "3")
    bpmn = new["case_lifecycle.bpmn"]
    bpmn = bpmn.replace('<bpmn:userTask id="verify" name="', '<bpmn:userTask id="verify" name="核实!', 1)
    # moving a shape on the canvas is not a change of the process
    bpmn = bpmn.replace('<dc:Bounds x="', '<dc:Bounds x="1', 1)
    form = json.loads(new["forms/check.form"])
    form["components"] = [c for c in form["components"] if c.get("key") != "note"]
    form["components"].append({"type": "textfield", "id": "Field_extra", "key": "extra", "label": "额外"})
    new = {**new, "case_lifecycle.bpmn": bpmn, "forms/check.form": json.dumps(form, ensure_ascii=False),
           "forms/new.form": new["forms/check.form"]}
    d = diff_files(old, new)
    got = {(c.file, c.element_id, c.change) for c in d.changes}
    assert got >= {("dispatch.dmn", "Rule_dispatch_34", "changed"), ("time_limits.dmn", "Rule_time_limits_1", "changed"),
                   ("case_lifecycle.bpmn", "verify", "changed"), ("forms/check.form", "note", "removed"),
                   ("forms/check.form", "extra", "added")}
    assert {c.file for c in d.changes} == {"dispatch.dmn", "time_limits.dmn", "case_lifecycle.bpmn",
                                           "forms/check.form", "forms/new.form"}
    assert len([c for c in d.changes if c.file == "case_lifecycle.bpmn"]) == 1
    assert d.added_files == ["forms/new.form"]
    rule = next(c for c in d.changes if c.element_id == "Rule_time_limits_1")
    assert rule.before.startswith('"E0401" | - | 120 |') and rule.after.startswith('"E0401" | - | 3 |')

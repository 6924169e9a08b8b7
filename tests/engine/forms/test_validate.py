"""Validating submissions on small synthetic forms: coercion, required, hidden fields, defaults."""

from __future__ import annotations

import pytest

from engine.errors import ValidationError
from engine.forms import validate
from tests.engine.forms.kit import field_errors, make_form, note_field


def test_checkbox_coercion() -> None:
    form = make_form({"type": "checkbox", "id": "Field_ok", "key": "ok", "label": "确认"})
    for raw, expected in [
        (True, True),
        (False, False),
        ("on", True),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("false", False),
        ("0", False),
    ]:
        assert validate(form, {"ok": raw}) == {"ok": expected}, raw
    assert validate(form, {}) == {"ok": False}
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"ok": "maybe"})
    assert "ok" in field_errors(exc_info)


def test_required_checkbox_must_be_checked() -> None:
    form = make_form(
        {"type": "checkbox", "id": "Field_ok", "key": "ok", "label": "确认", "validate": {"required": True}}
    )
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"ok": "false"})
    assert "ok" in field_errors(exc_info)
    assert validate(form, {"ok": "on"}) == {"ok": True}


def test_number_coercion() -> None:
    form = make_form(
        {"type": "number", "id": "Field_n", "key": "n", "label": "数量"},
        {"type": "number", "id": "Field_x", "key": "x", "label": "比例", "decimalDigits": 2},
    )
    assert validate(form, {"n": "42", "x": "0.25"}) == {"n": 42, "x": 0.25}
    assert validate(form, {"n": " -7 ", "x": 3}) == {"n": -7, "x": 3}
    assert validate(form, {"n": 1.5, "x": "1e1"}) == {"n": 1.5, "x": 10}
    assert validate(form, {"n": ""}) == {"n": None, "x": None}
    for bad in ("1,5", "nan", "inf", float("nan"), [1], "0x10"):
        with pytest.raises(ValidationError) as exc_info:
            validate(form, {"n": bad})
        assert field_errors(exc_info) == {"n": "必须是数字 / must be a number"}, bad
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"x": "0.125"})
    assert "x" in field_errors(exc_info)


def test_checklist_values() -> None:
    form = make_form(
        {
            "type": "checklist",
            "id": "Field_tags",
            "key": "tags",
            "label": "标签",
            "values": [{"label": "紧急", "value": "urgent"}, {"label": "重复", "value": "repeat"}],
            "validate": {"required": True},
        }
    )
    assert validate(form, {"tags": ["repeat", "urgent", "repeat"]}) == {"tags": ["repeat", "urgent"]}
    assert validate(form, {"tags": "urgent"}) == {"tags": ["urgent"]}
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"tags": []})
    assert field_errors(exc_info) == {"tags": "必填 / required"}
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"tags": ["urgent", "other"]})
    assert field_errors(exc_info) == {"tags": "不在可选项中 / not one of the choices"}


def test_datetime_values() -> None:
    form = make_form(
        {"type": "datetime", "id": "Field_d", "key": "d", "dateLabel": "日期", "subtype": "date"},
        {"type": "datetime", "id": "Field_t", "key": "t", "timeLabel": "时间", "subtype": "time"},
        {"type": "datetime", "id": "Field_dt", "key": "dt", "dateLabel": "日期", "subtype": "datetime"},
    )
    assert validate(form, {"d": "2024-05-01", "t": "14:30", "dt": "2024-05-01T14:30"}) == {
        "d": "2024-05-01",
        "t": "14:30",
        "dt": "2024-05-01T14:30",
    }
    assert validate(form, {"dt": "2024-05-01T14:30:05+08:00"})["dt"] == "2024-05-01T14:30:05+08:00"
    assert form.field("d").label == "日期"
    for key, bad in [
        ("d", "2024-02-30"),
        ("d", "01/05/2024"),
        ("t", "25:00"),
        ("dt", "2024-05-01"),
        ("d", 20240501),
    ]:
        with pytest.raises(ValidationError) as exc_info:
            validate(form, {key: bad})
        assert key in field_errors(exc_info), (key, bad)


def test_textfield_pattern_and_default() -> None:
    form = make_form(
        {
            "type": "textfield",
            "id": "Field_code",
            "key": "code",
            "label": "编号",
            "defaultValue": "A-001",
            "validate": {"pattern": "^[A-Z]-\\d{3}$", "required": True},
        }
    )
    assert validate(form, {}) == {"code": "A-001"}
    assert validate(form, {"code": "B-123"}) == {"code": "B-123"}
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"code": "b123"})
    assert field_errors(exc_info) == {"code": "格式不正确 / does not have the required format"}
    with pytest.raises(ValidationError):
        validate(form, {"code": "A-001\nB-002"})


def test_readonly_fields_are_never_taken_from_the_submission() -> None:
    form = make_form(
        {"type": "textfield", "id": "Field_ref", "key": "ref", "label": "编号", "readonly": True},
        note_field(),
    )
    assert validate(form, {"ref": "forged", "note": "x"}) == {"note": "x"}


def test_hide_if_forms_and_boolean_literal() -> None:
    choices = [{"label": "是", "value": "yes"}, {"label": "否", "value": "no"}]
    form = make_form(
        {"type": "checkbox", "id": "Field_flag", "key": "flag", "label": "标记"},
        {"type": "radio", "id": "Field_answer", "key": "answer", "label": "回答", "values": choices},
        {
            "type": "textfield",
            "id": "Field_a",
            "key": "a",
            "label": "A",
            "conditional": {"hide": "=flag = false"},
        },
        {
            "type": "textfield",
            "id": "Field_b",
            "key": "b",
            "label": "B",
            "conditional": {"hide": '=not(answer = "yes")'},
        },
        {
            "type": "textfield",
            "id": "Field_c",
            "key": "c",
            "label": "C",
            "conditional": {"hide": '= answer = "yes" '},
        },
        {"type": "text", "id": "Text_1", "text": "说明", "conditional": {"hide": "=flag = true"}},
    )
    assert form.field("b").hide_if.op == "!="
    assert [c.type for c in form.components][-1] == "text" and "Text_1" not in form
    data = validate(form, {"flag": "on", "answer": "yes", "a": "1", "b": "2", "c": "3"})
    assert data == {"flag": True, "answer": "yes", "a": "1", "b": "2"}
    data = validate(form, {"answer": "no", "a": "1", "b": "2", "c": "3"})
    assert data == {"flag": False, "answer": "no", "c": "3"}
    # An invalid controlling value counts as null: the dependent field is judged on that.
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"answer": "perhaps", "b": "2"})
    assert set(field_errors(exc_info)) == {"answer"}

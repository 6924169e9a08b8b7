"""Task forms (engine.forms): loading form-js files and validating submissions against them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import DefinitionError, ValidationError
from engine.forms import (
    FormError,
    FormRegistry,
    FormSpec,
    load_form,
    load_form_text,
    validate,
)

FORMS_DIR = Path(__file__).resolve().parents[2] / "bpmn" / "forms"
FORM_FILES = sorted(FORMS_DIR.glob("*.form"))

EXPECTED_TASKS = {
    "verify",
    "accept",
    "file",
    "dispatch",
    "handle",
    "approve_return",
    "approve_extension",
    "approve_suspension",
    "resume",
    "check",
    "close",
    "confirm_self_handled",
    "escalate",
}

TOKEN = "att_0123456789"
TOKEN2 = "att-abcdefghij"


@pytest.fixture(scope="module")
def registry() -> FormRegistry:
    return FormRegistry(FORMS_DIR)


def form_doc(*components: dict, form_id: str = "Form_test") -> dict:
    return {"type": "default", "id": form_id, "schemaVersion": 16, "components": list(components)}


def make_form(*components: dict) -> FormSpec:
    return load_form_text(json.dumps(form_doc(*components), ensure_ascii=False), "test.form")


def field_errors(exc_info: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return exc_info.value.fields


# --------------------------------------------------------------------------------------------------
# The project's form files


def test_every_expected_task_has_a_form(registry: FormRegistry) -> None:
    assert set(registry.task_ids()) == EXPECTED_TASKS


@pytest.mark.parametrize("path", FORM_FILES, ids=[p.stem for p in FORM_FILES])
def test_form_file_loads_and_is_form_js(path: Path) -> None:
    spec = load_form(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "default"
    assert doc["schemaVersion"] == 16
    assert spec.id == doc["id"]
    ids = [c["id"] for c in doc["components"]]
    assert len(ids) == len(set(ids))
    assert spec.fields, "every task form has at least one input"
    for f in spec.fields:
        assert f.label and f.label_en and f.label_en != f.label, (
            f"{path.name}:{f.key} needs Chinese and English labels"
        )
        for choice in f.values:
            assert choice.label_en != choice.label, (
                f"{path.name}:{f.key}={choice.value} needs an English label"
            )
        if f.type in ("textarea", "textfield"):
            assert f.max_length is not None and f.max_length <= 2000


def test_form_ids_are_unique_across_files() -> None:
    ids = [load_form(p).id for p in FORM_FILES]
    assert len(ids) == len(set(ids))


def test_verify_form_shape(registry: FormRegistry) -> None:
    spec = registry.get("verify")
    verdict = spec.field("verdict")
    assert verdict.type == "radio" and verdict.required
    assert [(c.value, c.label) for c in verdict.values] == [("confirmed", "属实"), ("not_found", "不属实")]
    assert verdict.choice("confirmed").label_en == "Confirmed"
    assert spec.field("note").max_length == 2000 and not spec.field("note").required
    assert spec.field("photos").type == "filepicker" and spec.field("photos").multiple


def test_registry_get_unknown_task_raises_key_error(registry: FormRegistry) -> None:
    with pytest.raises(KeyError):
        registry.get("no_such_task")
    assert "verify" in registry and "no_such_task" not in registry


def test_registry_reuses_parsed_forms_while_files_are_unchanged(tmp_path: Path) -> None:
    (tmp_path / "a.form").write_text(json.dumps(form_doc(note_field())), encoding="utf-8")
    first = FormRegistry(tmp_path)
    second = FormRegistry(tmp_path)
    assert first.get("a") is second.get("a")
    assert first.reload() is False

    (tmp_path / "a.form").write_text(json.dumps(form_doc(note_field(required=True))), encoding="utf-8")
    assert first.reload() is True
    assert first.get("a") is not second.get("a")
    assert first.get("a").field("note").required


def test_registry_refuses_a_directory_with_a_bad_file(tmp_path: Path) -> None:
    (tmp_path / "good.form").write_text(json.dumps(form_doc(note_field())), encoding="utf-8")
    (tmp_path / "bad.form").write_text("{not json", encoding="utf-8")
    with pytest.raises(FormError, match="bad.form"):
        FormRegistry(tmp_path)


def test_registry_refuses_duplicate_form_ids(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.form").write_text(json.dumps(form_doc(note_field())), encoding="utf-8")
    with pytest.raises(FormError, match="Form_test"):
        FormRegistry(tmp_path)


# --------------------------------------------------------------------------------------------------
# Validation with the real forms


def test_valid_submission_is_cleaned(registry: FormRegistry) -> None:
    data = validate(
        registry.get("verify"), {"verdict": "confirmed", "note": "  路面破损 \r\n 已拍照 ", "photos": [TOKEN]}
    )
    assert data == {"verdict": "confirmed", "note": "路面破损 \n 已拍照", "photos": [TOKEN]}


def test_optional_fields_absent_come_back_empty(registry: FormRegistry) -> None:
    assert validate(registry.get("verify"), {"verdict": "not_found"}) == {
        "verdict": "not_found",
        "note": None,
        "photos": [],
    }


def test_required_missing_names_the_field(registry: FormRegistry) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(registry.get("verify"), {"note": "x"})
    assert field_errors(exc_info) == {"verdict": "必填 / required"}
    assert "verdict" in str(exc_info.value)


def test_required_empty_string_is_missing(registry: FormRegistry) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(registry.get("escalate"), {"level": "remind", "order": "   "})
    assert field_errors(exc_info) == {"order": "必填 / required"}


def test_choice_not_allowed(registry: FormRegistry) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(registry.get("check"), {"verdict": "maybe"})
    assert field_errors(exc_info) == {"verdict": "不在可选项中 / not one of the choices"}


def test_wrong_type_for_text_and_choice(registry: FormRegistry) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(registry.get("verify"), {"verdict": 1, "note": 42})
    errors = field_errors(exc_info)
    assert errors["verdict"] == "不在可选项中 / not one of the choices"
    assert errors["note"] == "必须是文本 / must be text"


def test_unknown_key_is_rejected(registry: FormRegistry) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(registry.get("close"), {"note": "ok", "case_status": "closed"})
    assert field_errors(exc_info) == {"case_status": "未知字段 / unknown field"}


def test_max_length_enforced(registry: FormRegistry) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(registry.get("verify"), {"verdict": "confirmed", "note": "字" * 2001})
    assert "2000" in field_errors(exc_info)["note"]
    assert (
        validate(registry.get("verify"), {"verdict": "confirmed", "note": "字" * 2000})["note"] == "字" * 2000
    )


def test_control_characters_are_refused(registry: FormRegistry) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(registry.get("close"), {"note": "a\x00b"})
    assert "note" in field_errors(exc_info)


def test_hidden_conditional_fields_are_not_required_and_dropped(registry: FormRegistry) -> None:
    form = registry.get("handle")
    data = validate(
        form,
        {"outcome": "done", "result": "已清理", "extension_amount": "abc", "extension_unit": "year"},
    )
    assert data == {"outcome": "done", "result": "已清理", "photos": []}


def test_conditional_fields_required_when_shown(registry: FormRegistry) -> None:
    form = registry.get("handle")
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"outcome": "extend", "result": "需要等待配件"})
    assert field_errors(exc_info) == {
        "extension_amount": "必填 / required",
        "extension_unit": "必填 / required",
    }

    data = validate(
        form,
        {"outcome": "extend", "result": "需要等待配件", "extension_amount": "3", "extension_unit": "workday"},
    )
    assert data["extension_amount"] == 3 and isinstance(data["extension_amount"], int)
    assert data["extension_unit"] == "workday"


def test_conditional_number_bounds_and_integrality(registry: FormRegistry) -> None:
    form = registry.get("handle")
    base = {"outcome": "extend", "result": "r", "extension_unit": "workhour"}
    for amount, message in [
        (0, "不能小于 1 / must be at least 1"),
        ("61", "不能大于 60 / must be at most 60"),
        ("2.5", "必须是整数 / must be a whole number"),
        ("三", "必须是数字 / must be a number"),
        (True, "必须是数字 / must be a number"),
    ]:
        with pytest.raises(ValidationError) as exc_info:
            validate(form, {**base, "extension_amount": amount})
        assert field_errors(exc_info) == {"extension_amount": message}, amount
    assert validate(form, {**base, "extension_amount": 60.0})["extension_amount"] == 60


def test_void_reason_only_when_voiding(registry: FormRegistry) -> None:
    form = registry.get("file")
    assert validate(form, {"decision": "file", "void_reason": "ignored"}) == {
        "decision": "file",
        "note": None,
    }
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"decision": "void"})
    assert field_errors(exc_info) == {"void_reason": "必填 / required"}
    assert validate(form, {"decision": "void", "void_reason": "重复上报"})["void_reason"] == "重复上报"


def test_values_key_options_enforced(registry: FormRegistry) -> None:
    form = registry.get("dispatch")
    options = {"department_options": ["city_roads", "sanitation"]}
    assert validate(form, {"department": "sanitation"}, options) == {"department": "sanitation", "note": None}
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"department": "police"}, options)
    assert field_errors(exc_info) == {"department": "不在可选项中 / not one of the choices"}
    form_js_style = {"department_options": [{"label": "环卫处", "value": "sanitation"}]}
    assert validate(form, {"department": "sanitation"}, form_js_style)["department"] == "sanitation"


def test_values_key_without_options_is_a_programming_error(registry: FormRegistry) -> None:
    with pytest.raises(LookupError, match="department_options"):
        validate(registry.get("dispatch"), {"department": "sanitation"})


def test_filepicker_tokens(registry: FormRegistry) -> None:
    form = registry.get("check")
    data = validate(form, {"verdict": "passed", "photos": f"{TOKEN},{TOKEN2},{TOKEN}"})
    assert data["photos"] == [TOKEN, TOKEN2]
    for bad in (["../etc/passwd"], ["short"], [123], {"a": TOKEN}):
        with pytest.raises(ValidationError) as exc_info:
            validate(form, {"verdict": "passed", "photos": bad})
        assert "photos" in field_errors(exc_info)


def test_all_errors_are_reported_together(registry: FormRegistry) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(registry.get("escalate"), {"level": "shout", "x": 1})
    assert set(field_errors(exc_info)) == {"level", "order", "x"}


def test_submitted_must_be_a_mapping(registry: FormRegistry) -> None:
    with pytest.raises(ValidationError):
        validate(registry.get("close"), ["note"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Coercion on small synthetic forms


def note_field(required: bool = False) -> dict:
    return {
        "type": "textarea",
        "id": "Field_note",
        "key": "note",
        "label": "备注",
        "validate": {"required": required},
    }


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


# --------------------------------------------------------------------------------------------------
# Malformed form files


def write_form(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "broken.form"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_form_error_is_a_definition_error() -> None:
    assert issubclass(FormError, DefinitionError)


def test_unknown_component_type(tmp_path: Path) -> None:
    path = write_form(
        tmp_path, form_doc({"type": "signature", "id": "Field_sig", "key": "sig", "label": "签名"})
    )
    with pytest.raises(FormError, match=r"broken\.form.*Field_sig.*signature"):
        load_form(path)


def test_duplicate_key(tmp_path: Path) -> None:
    second = {**note_field(), "id": "Field_note2"}
    with pytest.raises(FormError, match=r"Field_note2.*duplicate key 'note'"):
        load_form(write_form(tmp_path, form_doc(note_field(), second)))


def test_duplicate_component_id(tmp_path: Path) -> None:
    second = {**note_field(), "key": "other"}
    with pytest.raises(FormError, match="duplicate id"):
        load_form(write_form(tmp_path, form_doc(note_field(), second)))


@pytest.mark.parametrize(
    "expression",
    [
        '=a = "x" and a != "y"',
        "=a > 3",
        '=a = "x" or true',
        'a = "x"',
        '=upper case(a) = "X"',
        "=a = 'x'",
    ],
)
def test_unsupported_feel(tmp_path: Path, expression: str) -> None:
    doc = form_doc(
        {"type": "textfield", "id": "Field_a", "key": "a", "label": "A"},
        {"type": "textfield", "id": "Field_b", "key": "b", "label": "B", "conditional": {"hide": expression}},
    )
    with pytest.raises(FormError, match="Field_b"):
        load_form(write_form(tmp_path, doc))


def test_hide_if_must_refer_to_a_field_with_a_matching_value(tmp_path: Path) -> None:
    radio = {
        "type": "radio",
        "id": "Field_r",
        "key": "r",
        "label": "R",
        "values": [{"label": "甲", "value": "x"}],
    }
    unknown_key = {
        "type": "textfield",
        "id": "Field_b",
        "key": "b",
        "label": "B",
        "conditional": {"hide": '=zz = "x"'},
    }
    with pytest.raises(FormError, match="'zz'"):
        load_form(write_form(tmp_path, form_doc(radio, unknown_key)))
    wrong_value = {**unknown_key, "conditional": {"hide": '=r = "y"'}}
    with pytest.raises(FormError, match="'y'"):
        load_form(write_form(tmp_path, form_doc(radio, wrong_value)))


def test_hide_if_cycle(tmp_path: Path) -> None:
    doc = form_doc(
        {"type": "textfield", "id": "Field_a", "key": "a", "label": "A", "conditional": {"hide": '=b = "x"'}},
        {"type": "textfield", "id": "Field_b", "key": "b", "label": "B", "conditional": {"hide": '=a = "x"'}},
    )
    with pytest.raises(FormError, match="cycle"):
        load_form(write_form(tmp_path, doc))


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{not json", "not valid form JSON"),
        ('{"type": "default", "type": "default"}', "duplicate JSON member"),
        ({"type": "custom", "id": "F", "schemaVersion": 16, "components": []}, '"type": "default"'),
        ({"type": "default", "schemaVersion": 16, "components": []}, '"id"'),
        ({"type": "default", "id": "F", "components": []}, "schemaVersion"),
        (form_doc({"type": "textfield", "id": "Field_a", "label": "A"}), "key"),
        (form_doc({"type": "textfield", "id": "Field_a", "key": "a.b", "label": "A"}), "key"),
        (form_doc({"type": "textfield", "key": "a", "label": "A"}), '"id"'),
        (form_doc({"type": "radio", "id": "Field_r", "key": "r", "label": "R"}), "values or valuesKey"),
        (
            form_doc(
                {"type": "radio", "id": "Field_r", "key": "r", "label": "R", "valuesExpression": "=opts"}
            ),
            "valuesExpression",
        ),
        (
            form_doc(
                {
                    "type": "radio",
                    "id": "Field_r",
                    "key": "r",
                    "label": "R",
                    "values": [{"label": "甲", "value": "x"}],
                    "properties": {"values_en": "y=Why"},
                }
            ),
            "values_en",
        ),
        (form_doc({**note_field(), "validate": {"maxlength": 10}}), "maxlength"),
        (form_doc({**note_field(), "validate": {"min": 1}}), "number"),
        (form_doc({**note_field(), "validate": {"pattern": "("}}), "pattern"),
        (
            form_doc(
                {
                    "type": "number",
                    "id": "Field_n",
                    "key": "n",
                    "label": "N",
                    "validate": {"min": 5, "max": 1},
                }
            ),
            "min",
        ),
        (
            form_doc({"type": "number", "id": "Field_n", "key": "n", "label": "N", "defaultValue": "x"}),
            "defaultValue",
        ),
        (form_doc({**note_field(), "readonly": "=true"}), "readonly"),
        (form_doc({**note_field(), "values": [{"label": "甲", "value": "x"}]}), "choices"),
        ([], "JSON object"),
    ],
)
def test_malformed_form_files(tmp_path: Path, doc: object, message: str) -> None:
    with pytest.raises(FormError, match=message.replace(".", r"\.").replace("(", r"\(")) as exc_info:
        load_form(write_form(tmp_path, doc))
    assert "broken.form" in str(exc_info.value)


def test_load_form_text_names_the_source() -> None:
    with pytest.raises(FormError, match="inline.form"):
        load_form_text("[]", "inline.form")


def test_absent_checkbox_is_unticked_even_with_a_default() -> None:
    form = make_form(
        {"type": "checkbox", "id": "Field_ok", "key": "ok", "label": "确认", "defaultValue": True}
    )
    assert form.field("ok").default is True
    assert validate(form, {}) == {"ok": False}
    assert hash(form) == hash(form)

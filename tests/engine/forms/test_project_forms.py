"""The project's form files (bpmn/forms/): one per user task, form-js, bilingual, and what they accept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import ValidationError
from engine.forms import FormSpec, validate
from tests.engine.forms.kit import FORM_FILES, TOKEN, TOKEN2, field_errors, load_form, project_forms

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
    "followup_callback",  # 回访 after closing
    "device_check",  # a device back to normal: 设备恢复核查
}


@pytest.fixture(scope="module")
def forms() -> dict[str, FormSpec]:
    return project_forms()


def test_every_expected_task_has_a_form(forms: dict[str, FormSpec]) -> None:
    assert set(forms) == EXPECTED_TASKS


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


def test_verify_form_shape(forms: dict[str, FormSpec]) -> None:
    spec = forms["verify"]
    verdict = spec.field("verdict")
    assert verdict.type == "radio" and verdict.required
    assert [(c.value, c.label) for c in verdict.values] == [("confirmed", "属实"), ("not_found", "不属实")]
    assert verdict.choice("confirmed").label_en == "Confirmed"
    assert spec.field("note").max_length == 2000 and not spec.field("note").required
    assert spec.field("photos").type == "filepicker" and spec.field("photos").multiple


def test_valid_submission_is_cleaned(forms: dict[str, FormSpec]) -> None:
    data = validate(
        forms["verify"], {"verdict": "confirmed", "note": "  路面破损 \r\n 已拍照 ", "photos": [TOKEN]}
    )
    assert data == {"verdict": "confirmed", "note": "路面破损 \n 已拍照", "photos": [TOKEN]}


def test_optional_fields_absent_come_back_empty(forms: dict[str, FormSpec]) -> None:
    assert validate(forms["verify"], {"verdict": "not_found"}) == {
        "verdict": "not_found",
        "note": None,
        "photos": [],
    }


def test_required_missing_names_the_field(forms: dict[str, FormSpec]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(forms["verify"], {"note": "x"})
    assert field_errors(exc_info) == {"verdict": "必填 / required"}
    assert "verdict" in str(exc_info.value)


def test_required_empty_string_is_missing(forms: dict[str, FormSpec]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(forms["escalate"], {"level": "remind", "order": "   "})
    assert field_errors(exc_info) == {"order": "必填 / required"}


def test_choice_not_allowed(forms: dict[str, FormSpec]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(forms["check"], {"verdict": "maybe"})
    assert field_errors(exc_info) == {"verdict": "不在可选项中 / not one of the choices"}


def test_wrong_type_for_text_and_choice(forms: dict[str, FormSpec]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(forms["verify"], {"verdict": 1, "note": 42})
    errors = field_errors(exc_info)
    assert errors["verdict"] == "不在可选项中 / not one of the choices"
    assert errors["note"] == "必须是文本 / must be text"


def test_unknown_key_is_rejected(forms: dict[str, FormSpec]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(forms["close"], {"note": "ok", "case_status": "closed"})
    assert field_errors(exc_info) == {"case_status": "未知字段 / unknown field"}


def test_max_length_enforced(forms: dict[str, FormSpec]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(forms["verify"], {"verdict": "confirmed", "note": "字" * 2001})
    assert "2000" in field_errors(exc_info)["note"]
    assert (
        validate(forms["verify"], {"verdict": "confirmed", "note": "字" * 2000})["note"] == "字" * 2000
    )


def test_control_characters_are_refused(forms: dict[str, FormSpec]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(forms["close"], {"note": "a\x00b"})
    assert "note" in field_errors(exc_info)


def test_hidden_conditional_fields_are_not_required_and_dropped(forms: dict[str, FormSpec]) -> None:
    form = forms["handle"]
    data = validate(
        form,
        {"outcome": "done", "result": "已清理", "extension_amount": "abc", "extension_unit": "year"},
    )
    assert data == {"outcome": "done", "result": "已清理", "photos": []}


def test_conditional_fields_required_when_shown(forms: dict[str, FormSpec]) -> None:
    form = forms["handle"]
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


def test_conditional_number_bounds_and_integrality(forms: dict[str, FormSpec]) -> None:
    form = forms["handle"]
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


def test_void_reason_only_when_voiding(forms: dict[str, FormSpec]) -> None:
    form = forms["file"]
    assert validate(form, {"decision": "file", "void_reason": "ignored"}) == {
        "decision": "file",
        "note": None,
    }
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"decision": "void"})
    assert field_errors(exc_info) == {"void_reason": "必填 / required"}
    assert validate(form, {"decision": "void", "void_reason": "重复上报"})["void_reason"] == "重复上报"


def test_values_key_options_enforced(forms: dict[str, FormSpec]) -> None:
    form = forms["dispatch"]
    options = {"department_options": ["city_roads", "sanitation"]}
    assert validate(form, {"department": "sanitation"}, options) == {"department": "sanitation", "note": None}
    with pytest.raises(ValidationError) as exc_info:
        validate(form, {"department": "police"}, options)
    assert field_errors(exc_info) == {"department": "不在可选项中 / not one of the choices"}
    form_js_style = {"department_options": [{"label": "环卫处", "value": "sanitation"}]}
    assert validate(form, {"department": "sanitation"}, form_js_style)["department"] == "sanitation"


def test_values_key_without_options_is_a_programming_error(forms: dict[str, FormSpec]) -> None:
    with pytest.raises(LookupError, match="department_options"):
        validate(forms["dispatch"], {"department": "sanitation"})


def test_filepicker_tokens(forms: dict[str, FormSpec]) -> None:
    form = forms["check"]
    data = validate(form, {"verdict": "passed", "photos": f"{TOKEN},{TOKEN2},{TOKEN}"})
    assert data["photos"] == [TOKEN, TOKEN2]
    for bad in (["../etc/passwd"], ["short"], [123], {"a": TOKEN}):
        with pytest.raises(ValidationError) as exc_info:
            validate(form, {"verdict": "passed", "photos": bad})
        assert "photos" in field_errors(exc_info)


def test_all_errors_are_reported_together(forms: dict[str, FormSpec]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        validate(forms["escalate"], {"level": "shout", "x": 1})
    assert set(field_errors(exc_info)) == {"level", "order", "x"}


def test_submitted_must_be_a_mapping(forms: dict[str, FormSpec]) -> None:
    with pytest.raises(ValidationError):
        validate(forms["close"], ["note"])  # type: ignore[arg-type]

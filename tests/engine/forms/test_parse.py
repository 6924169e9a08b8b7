"""Reading form files: what is refused, and that the message names the file and the component."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DefinitionError
from engine.forms import FormError, load_form_text, validate
from tests.engine.forms.kit import form_doc, load_form, make_form, note_field, write_form


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
        ({"type": "custom", "id": "F", "schemaVersion": 16, "components": []}, "'type': 'default' was expected"),
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
        (form_doc({**note_field(), "validate": {"min": 1}}), "'validate.min': not allowed for this component type"),
        (form_doc({"type": "textfield", "id": "Field_t", "key": "t", "label": "T", "validate": {"pattern": "("}}),
         "validate.pattern is not a valid regular expression"),
        (form_doc({**note_field(), "label": 3}), "'label': 3 is not of type 'string'"),
        (form_doc({"type": "taglist", "id": "Field_t", "key": "t", "label": "T", "values": []}),
         "unsupported component type 'taglist' (supported:"),
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
        (form_doc({**note_field(), "values": [{"label": "甲", "value": "x"}]}), "'values': not allowed"),
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

"""Shared helpers of the form tests: the project's forms and small synthetic form documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import ValidationError
from engine.forms import FormSpec, load_form_text

FORMS_DIR = Path(__file__).resolve().parents[3] / "bpmn" / "forms"
FORM_FILES = sorted(FORMS_DIR.glob("*.form"))
TOKEN = "att_0123456789"
TOKEN2 = "att-abcdefghij"


def load_form(path: Path) -> FormSpec:
    """A form file read the way a deployment reads it (by its text, named by its file name)."""
    return load_form_text(path.read_text(encoding="utf-8"), path.name)


def project_forms() -> dict[str, FormSpec]:
    """bpmn/forms/*.form by task id (the file name without .form)."""
    return {path.stem: load_form(path) for path in FORM_FILES}


def form_doc(*components: dict, form_id: str = "Form_test") -> dict:
    return {"type": "default", "id": form_id, "schemaVersion": 16, "components": list(components)}


def make_form(*components: dict) -> FormSpec:
    return load_form_text(json.dumps(form_doc(*components), ensure_ascii=False), "test.form")


def note_field(required: bool = False) -> dict:
    return {
        "type": "textarea",
        "id": "Field_note",
        "key": "note",
        "label": "备注",
        "validate": {"required": required},
    }


def field_errors(exc_info: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return exc_info.value.fields


def write_form(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "broken.form"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path

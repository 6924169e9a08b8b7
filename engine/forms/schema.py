"""form-js's published JSON schema, applied to a form file before our own checks.

formjs_schema.json is the schema of @bpmn-io/form-json-schema (bpmn-io/form-js,
packages/form-json-schema/src), its files bundled into one document; formjs_schema.LICENSE is
its licence. The schema says what form-js itself accepts (types of members, which members each
component type may have); engine/forms/parse.py adds what citycase supports on top.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

SCHEMA_PATH = Path(__file__).with_name("formjs_schema.json")


@cache
def _validator() -> Draft7Validator:
    # Read once per process: the schema is a fixed file of the package.
    return Draft7Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def schema_problem(doc: dict[str, Any]) -> str | None:
    """The most relevant schema violation of ``doc`` as one line naming where it is, or None.

    A wrong ``type`` is reported before anything else: every other rule of the schema depends on it.
    """
    errors = list(_validator().iter_errors(doc))
    type_errors = [e for e in errors if e.absolute_path and e.absolute_path[-1] == "type"]
    error = best_match(type_errors or errors)
    if error is None:
        return None
    member = _member(doc, error)
    return f"{_where(doc, [*error.absolute_path, *member])}: {_message(error)} (form-js schema)"


def _member(doc: Any, error: ValidationError) -> list[str]:
    """For a ``false`` schema, the name of the member it refuses (jsonschema reports its parent)."""
    if error.validator is not None:
        return []
    parent = doc
    for step in error.absolute_path:
        parent = parent[step]
    if isinstance(parent, dict):
        for key, value in parent.items():
            if value is error.instance:
                return [key]
    return []


def _where(doc: dict[str, Any], path: list[Any]) -> str:
    if len(path) >= 2 and path[0] == "components" and isinstance(path[1], int):
        component = doc["components"][path[1]]
        cid = component.get("id") if isinstance(component, dict) else None
        head = f"component {cid!r}" if isinstance(cid, str) and cid else f"components[{path[1]}]"
        rest = ".".join(str(p) for p in path[2:])
        return f"{head}: {rest!r}" if rest else head
    return repr(".".join(str(p) for p in path)) if path else "the form"


def _message(error: ValidationError) -> str:
    if error.validator is None:  # a `false` schema: the member is not allowed there
        return "not allowed for this component type"
    if error.validator == "enum" and list(error.absolute_path)[-1:] == ["type"]:
        return f"unsupported component type {error.instance!r}"
    return error.message

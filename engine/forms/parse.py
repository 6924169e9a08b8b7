"""Reading a form-js ``.form`` file into a :class:`~engine.forms.spec.FormSpec`.

Every user task ``<task_id>`` has a form file ``bpmn/forms/<task_id>.form`` written in the form-js
schema of bpmn.io (``{"type": "default", "id": ..., "schemaVersion": 16, "components": [...]}``).
The same file drives the HTML rendering and the server-side validation, so whatever the browser
shows is exactly what the server accepts.

A file is first checked against form-js's own published JSON schema (engine/forms/schema.py);
the checks by hand below are ours: only a well-defined subset of form-js is supported, and
anything outside it is refused when the file is loaded (``FormError``) rather than silently ignored:

* input components ``textfield``, ``textarea``, ``number``, ``checkbox``, ``radio``, ``select``,
  ``checklist``, ``datetime``, ``filepicker``; display-only ``text``, ``spacer``, ``separator``;
* ``validate``: ``required``, ``min``/``max`` (number), ``minLength``/``maxLength``/``pattern``/
  ``validationType`` (text fields);
* ``conditional.hide`` in the forms ``=key = "v"``, ``=key != "v"``, ``=not(key = "v")`` where the
  literal is a double-quoted string or ``true``/``false``; ``key`` must be another input of the form;
* ``values`` (static choices) or ``valuesKey`` (choices supplied at validation time);
* English texts in the free ``properties`` object: ``label_en`` on any component, and
  ``values_en = "value1=English 1;value2=English 2"`` on choice components.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from engine.forms.schema import schema_problem
from engine.forms.spec import (
    CHOICE_TYPES,
    DATETIME_SUBTYPES,
    DISPLAY_TYPES,
    INPUT_TYPES,
    TEXT_TYPES,
    Choice,
    FormError,
    FormField,
    FormSpec,
    HideIf,
    InputField,
)
from engine.forms.validate import FieldError, clean_value

_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VALIDATE_KEYS = frozenset({"required", "min", "max", "minLength", "maxLength", "pattern", "validationType"})
_FEEL_IDENT = r"([A-Za-z_][A-Za-z0-9_]*)"
_FEEL_LITERAL = r'("[^"\\]*"|true|false)'
_FEEL_COMPARE = re.compile(rf"\s*{_FEEL_IDENT}\s*(=|!=)\s*{_FEEL_LITERAL}\s*")
_FEEL_NOT = re.compile(rf"\s*not\s*\(\s*{_FEEL_IDENT}\s*=\s*{_FEEL_LITERAL}\s*\)\s*")


def load_form_text(text: str, name: str) -> FormSpec:
    """Parse form-js JSON ``text``; ``name`` (usually the file name) prefixes every error message."""
    sha256 = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    try:
        doc = json.loads(text, object_pairs_hook=_reject_duplicate_members, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError is a ValueError too
        raise FormError(f"{name}: not valid form JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise FormError(f"{name}: a form file must be a JSON object")
    problem = schema_problem(doc)
    if problem is not None:
        raise FormError(f"{name}: {problem}")
    form_id = doc.get("id")
    if not isinstance(form_id, str) or not form_id:
        raise FormError(f'{name}: the form needs a string "id"')
    schema_version = doc.get("schemaVersion")
    if schema_version is None:
        raise FormError(f'{name}: the form needs an integer "schemaVersion"')
    components = _parse_components(doc["components"], name, form_id)
    return FormSpec(
        id=form_id, name=name, schema_version=schema_version, components=tuple(components), sha256=sha256
    )


def _reject_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate JSON member {key!r}")
        result[key] = value
    return result


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not valid JSON")


def _parse_components(raw_components: list[Any], name: str, form_id: str) -> list[FormField]:
    components: list[FormField] = []
    ids: set[str] = {form_id}
    keys: set[str] = set()
    for index, raw in enumerate(raw_components):
        component = _parse_component(raw, index, name)
        if component.id in ids:
            raise FormError(f"{name}: component {component.id!r}: duplicate id")
        ids.add(component.id)
        if component.key is not None:
            if component.key in keys:
                raise FormError(f"{name}: component {component.id!r}: duplicate key {component.key!r}")
            keys.add(component.key)
        components.append(component)
    by_key = {c.key: c for c in components if isinstance(c, InputField)}
    for component in components:
        if component.hide_if is not None:
            _check_hide_if(name, component, by_key)
    return components


def _parse_component(raw: dict[str, Any], index: int, name: str) -> FormField:
    cid = raw.get("id")
    ctype = raw.get("type")
    where = f"{name}: component {cid!r}" if isinstance(cid, str) and cid else f"{name}: components[{index}]"
    if not isinstance(cid, str) or not cid:
        raise FormError(f'{where}: every component needs a string "id"')
    if ctype not in INPUT_TYPES and ctype not in DISPLAY_TYPES:
        supported = ", ".join(sorted(INPUT_TYPES | DISPLAY_TYPES))
        raise FormError(f"{where}: unsupported component type {ctype!r} (supported: {supported})")
    properties = raw.get("properties") or {}
    if not all(isinstance(v, str) for v in properties.values()):
        raise FormError(f'{where}: "properties" must be an object of string values')
    hide_if = _parse_hide_if(raw.get("conditional"), where)
    if ctype in DISPLAY_TYPES:
        return FormField(id=cid, type=ctype, key=None, label=_string(raw, "label", where),
                         label_en=properties.get("label_en", ""), hide_if=hide_if,
                         text=_string(raw, "text", where), properties=MappingProxyType(dict(properties)))
    return _parse_input(raw, cid, ctype, where, properties, hide_if)


def _parse_input(raw: dict[str, Any], cid: str, ctype: str, where: str, properties: dict[str, str],
                 hide_if: HideIf | None) -> InputField:
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise FormError(f"{where}: an input needs a key made of letters, digits and _ (got {key!r})")
    where = f"{where} (key {key!r})"
    label = _string(raw, "label", where)
    if ctype == "datetime" and not label:
        label = _string(raw, "dateLabel", where) or _string(raw, "timeLabel", where)
    if label.startswith("="):
        raise FormError(f"{where}: expression labels are not supported")
    rules = raw.get("validate") or {}
    unknown_rules = set(rules) - _VALIDATE_KEYS
    if unknown_rules:
        raise FormError(f"{where}: unsupported validate rule(s) {sorted(unknown_rules)}")
    attrs = {**_number_attrs(raw, ctype, rules, where), **_text_attrs(ctype, rules, where),
             **_choice_attrs(raw, ctype, properties, where), **_datetime_attrs(raw, ctype, where),
             **_filepicker_attrs(raw, ctype, where)}
    component = InputField(
        id=cid, type=ctype, key=key, label=label, label_en=properties.get("label_en") or label,
        required=bool(rules.get("required", False)),
        readonly=_flag(raw, "readonly", where) or _flag(raw, "disabled", where),
        hide_if=hide_if, description=_string(raw, "description", where),
        properties=MappingProxyType(dict(properties)), **attrs,
    )
    return _with_default(component, raw, where)


def _number_attrs(raw: dict[str, Any], ctype: str, rules: dict[str, Any], where: str) -> dict[str, Any]:
    if ctype != "number":
        if any(k in rules for k in ("min", "max")):
            raise FormError(f"{where}: validate.min/max only apply to number fields")
        return {}
    low, high = _number_rule(rules, "min", where), _number_rule(rules, "max", where)
    if low is not None and high is not None and low > high:
        raise FormError(f"{where}: validate.min is larger than validate.max")
    digits = raw.get("decimalDigits")
    if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or digits < 0):
        raise FormError(f"{where}: decimalDigits must be a non-negative integer")
    for unsupported in ("increment", "serializeToString"):
        if raw.get(unsupported):
            raise FormError(f"{where}: {unsupported} is not supported")
    return {"min": low, "max": high, "decimal_digits": digits}


def _text_attrs(ctype: str, rules: dict[str, Any], where: str) -> dict[str, Any]:
    if ctype not in TEXT_TYPES:
        if any(k in rules for k in ("minLength", "maxLength", "pattern", "validationType")):
            raise FormError(f"{where}: minLength/maxLength/pattern/validationType only apply to text fields")
        return {}
    low, high = _length_rule(rules, "minLength", where), _length_rule(rules, "maxLength", where)
    if low is not None and high is not None and low > high:
        raise FormError(f"{where}: validate.minLength is larger than validate.maxLength")
    pattern = rules.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            raise FormError(f"{where}: validate.pattern must be a non-empty string")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise FormError(f"{where}: validate.pattern is not a valid regular expression: {exc}") from exc
    validation_type = rules.get("validationType")
    if validation_type not in (None, "", "custom", "email", "phone"):
        raise FormError(f"{where}: unsupported validate.validationType {validation_type!r}")
    return {"min_length": low, "max_length": high, "pattern": pattern,
            "validation_type": validation_type if validation_type in ("email", "phone") else None}


def _choice_attrs(raw: dict[str, Any], ctype: str, properties: dict[str, str], where: str) -> dict[str, Any]:
    if ctype not in CHOICE_TYPES:
        if any(k in raw for k in ("values", "valuesKey", "valuesExpression")) or "values_en" in properties:
            raise FormError(f"{where}: choices (values/valuesKey/values_en) only apply to radio, select, checklist")
        return {}
    values, values_key = _parse_choices(raw, properties, where)
    return {"values": values, "values_key": values_key}


def _datetime_attrs(raw: dict[str, Any], ctype: str, where: str) -> dict[str, Any]:
    if ctype != "datetime":
        return {}
    subtype = raw.get("subtype", "date")
    if subtype not in DATETIME_SUBTYPES:
        raise FormError(f"{where}: unsupported datetime subtype {subtype!r}")
    if raw.get("disallowPassedDates"):
        raise FormError(f"{where}: disallowPassedDates is not supported")
    return {"subtype": subtype}


def _filepicker_attrs(raw: dict[str, Any], ctype: str, where: str) -> dict[str, Any]:
    if ctype != "filepicker":
        return {}
    accept = raw.get("accept")
    if accept is not None and (not isinstance(accept, str) or accept.startswith("=")):
        raise FormError(f'{where}: "accept" must be a plain string')
    return {"multiple": _flag(raw, "multiple", where), "accept": accept}


def _with_default(component: InputField, raw: dict[str, Any], where: str) -> InputField:
    """The component with its ``defaultValue``, which must itself be a valid value of the field."""
    if raw.get("defaultValue") is None:
        return component
    if component.type == "filepicker":
        raise FormError(f"{where}: a filepicker cannot have a defaultValue")
    choices = None if component.values_key else [c.value for c in component.values]
    try:
        default = clean_value(component, raw["defaultValue"], choices)
    except FieldError as exc:
        raise FormError(f"{where}: defaultValue is invalid: {exc}") from exc
    return replace(component, default=default)


def _string(raw: dict[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FormError(f"{where}: {name!r} must be a string")
    return value


def _flag(raw: dict[str, Any], name: str, where: str) -> bool:
    value = raw.get(name, False)
    if not isinstance(value, bool):
        raise FormError(f"{where}: {name!r} must be true or false (expressions are not supported)")
    return value


def _number_rule(rules: dict[str, Any], name: str, where: str) -> int | float | None:
    value = rules.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FormError(f"{where}: validate.{name} must be a number")
    return value


def _length_rule(rules: dict[str, Any], name: str, where: str) -> int | None:
    value = rules.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FormError(f"{where}: validate.{name} must be a non-negative integer")
    return value


def _parse_choices(
    raw: dict[str, Any], properties: dict[str, str], where: str
) -> tuple[tuple[Choice, ...], str | None]:
    if "valuesExpression" in raw:
        raise FormError(f"{where}: valuesExpression is not supported; use values or valuesKey")
    values = raw.get("values")
    values_key = raw.get("valuesKey")
    if (values is None) == (values_key is None):
        raise FormError(f"{where}: a choice field needs exactly one of values or valuesKey")
    if values_key is not None:
        if not isinstance(values_key, str) or not _KEY_RE.fullmatch(values_key):
            raise FormError(f"{where}: valuesKey must be a plain name (got {values_key!r})")
        if "values_en" in properties:
            raise FormError(f"{where}: values_en cannot be used with valuesKey")
        return (), values_key

    if not isinstance(values, list) or not values:
        raise FormError(f"{where}: values must be a non-empty list")
    pairs: list[tuple[str, str]] = []
    for item in values:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("value"), str)
            or not item["value"]
            or not isinstance(item.get("label"), str)
        ):
            raise FormError(f'{where}: every value needs a string "label" and a non-empty string "value"')
        if any(item["value"] == seen for seen, _ in pairs):
            raise FormError(f"{where}: duplicate choice value {item['value']!r}")
        pairs.append((item["value"], item["label"]))

    english: dict[str, str] = {}
    for part in properties.get("values_en", "").split(";"):
        if not part.strip():
            continue
        value, sep, text = part.partition("=")
        value = value.strip()
        if not sep:
            raise FormError(f"{where}: values_en entry {part.strip()!r} is not of the form value=English")
        if value not in {v for v, _ in pairs}:
            raise FormError(f"{where}: values_en names {value!r}, which is not one of the values")
        english[value] = text.strip()
    return tuple(Choice(v, label, english.get(v) or label) for v, label in pairs), None


def _parse_hide_if(conditional: Any, where: str) -> HideIf | None:
    if conditional is None:
        return None
    if not isinstance(conditional, dict):
        raise FormError(f'{where}: "conditional" must be an object')
    unknown = set(conditional) - {"hide"}
    if unknown:
        raise FormError(f"{where}: unsupported conditional member(s) {sorted(unknown)}")
    expression = conditional.get("hide")
    if expression is None or expression == "":
        return None
    if not isinstance(expression, str) or not expression.startswith("="):
        raise FormError(f"{where}: conditional.hide must be a FEEL expression starting with '='")
    body = expression[1:]
    if match := _FEEL_COMPARE.fullmatch(body):
        key, op, literal = match.groups()
    elif match := _FEEL_NOT.fullmatch(body):
        key, literal = match.groups()
        op = "!="
    else:
        raise FormError(
            f"{where}: unsupported conditional.hide expression {expression!r}; supported forms are "
            '=key = "v", =key != "v", =not(key = "v") and =key = true/false'
        )
    value: str | bool = literal[1:-1] if literal.startswith('"') else literal == "true"
    return HideIf(key=key, op=op, value=value, expression=expression)


def _check_hide_if(name: str, component: FormField, by_key: Mapping[str, InputField]) -> None:
    hide_if = component.hide_if
    assert hide_if is not None
    where = f"{name}: component {component.id!r}"
    target = by_key.get(hide_if.key)
    if target is None:
        raise FormError(
            f"{where}: conditional.hide refers to {hide_if.key!r}, which is not a field of this form"
        )
    if target is component:
        raise FormError(f"{where}: conditional.hide refers to the component itself")
    if isinstance(hide_if.value, bool):
        if target.type != "checkbox":
            raise FormError(
                f"{where}: conditional.hide compares {hide_if.key!r} with true/false, but it is not a checkbox"
            )
    else:
        if target.type in ("checkbox", "number", "checklist", "filepicker"):
            raise FormError(
                f"{where}: conditional.hide compares {hide_if.key!r} ({target.type}) with a string"
            )
        if target.values and target.choice(hide_if.value) is None:
            raise FormError(
                f"{where}: conditional.hide compares {hide_if.key!r} with {hide_if.value!r}, "
                "which is not one of its values"
            )

"""Task forms: form-js JSON files beside the BPMN, checked at load time and used to validate submissions.

Every user task ``<task_id>`` has a form file ``bpmn/forms/<task_id>.form`` written in the form-js
schema of bpmn.io (``{"type": "default", "id": ..., "schemaVersion": 16, "components": [...]}``).
The same file drives the HTML rendering (done elsewhere) and the server-side validation here, so
whatever the browser shows is exactly what the server accepts.

Only a well-defined subset of form-js is supported, and anything outside it is refused when the file
is loaded (``FormError``) rather than silently ignored:

* input components ``textfield``, ``textarea``, ``number``, ``checkbox``, ``radio``, ``select``,
  ``checklist``, ``datetime``, ``filepicker``; display-only ``text``, ``spacer``, ``separator``;
* ``validate``: ``required``, ``min``/``max`` (number), ``minLength``/``maxLength``/``pattern``/
  ``validationType`` (text fields);
* ``conditional.hide`` in the forms ``=key = "v"``, ``=key != "v"``, ``=not(key = "v")`` where the
  literal is a double-quoted string or ``true``/``false``; ``key`` must be another input of the form;
* ``values`` (static choices) or ``valuesKey`` (choices supplied at validation time);
* English texts in the free ``properties`` object: ``label_en`` on any component, and
  ``values_en = "value1=English 1;value2=English 2"`` on choice components.

``validate`` returns JSON-native data that becomes process variables; it refuses unknown keys so a
submission can never set a variable the form does not declare.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from engine.errors import DefinitionError, ValidationError

__all__ = [
    "ATTACHMENT_TOKEN_RE",
    "Choice",
    "FormError",
    "FormField",
    "FormRegistry",
    "FormSpec",
    "HideIf",
    "load_form",
    "load_form_text",
    "validate",
]

INPUT_TYPES = frozenset(
    {"textfield", "textarea", "number", "checkbox", "radio", "select", "checklist", "datetime", "filepicker"}
)
DISPLAY_TYPES = frozenset({"text", "spacer", "separator"})
CHOICE_TYPES = frozenset({"radio", "select", "checklist"})
TEXT_TYPES = frozenset({"textfield", "textarea"})
LIST_TYPES = frozenset({"checklist", "filepicker"})
DATETIME_SUBTYPES = frozenset({"date", "time", "datetime"})

#: An uploaded file is referred to by an opaque token handed out by the attachment store.
ATTACHMENT_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
#: Text fields without a ``maxLength`` are still capped, so nobody can store megabytes in a variable.
DEFAULT_MAX_TEXT_LENGTH = 10_000

_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VALIDATE_KEYS = frozenset({"required", "min", "max", "minLength", "maxLength", "pattern", "validationType"})
_FEEL_IDENT = r"([A-Za-z_][A-Za-z0-9_]*)"
_FEEL_LITERAL = r'("[^"\\]*"|true|false)'
_FEEL_COMPARE = re.compile(rf"\s*{_FEEL_IDENT}\s*(=|!=)\s*{_FEEL_LITERAL}\s*")
_FEEL_NOT = re.compile(rf"\s*not\s*\(\s*{_FEEL_IDENT}\s*=\s*{_FEEL_LITERAL}\s*\)\s*")
_INT_RE = re.compile(r"[+-]?\d{1,30}")
_DECIMAL_RE = re.compile(r"[+-]?(?:\d{1,30}(?:\.\d{0,30})?|\.\d{1,30})(?:[eE][+-]?\d{1,3})?")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})?")
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE_RE = re.compile(r"\+?[0-9][0-9 ()-]{4,24}")
_TRUE_STRINGS = frozenset({"on", "true", "1"})
_FALSE_STRINGS = frozenset({"false", "0", ""})

# Messages shown next to a field: Chinese first, then English.
MSG_REQUIRED = "必填 / required"
MSG_MUST_CHECK = "必须勾选 / must be checked"
MSG_UNKNOWN = "未知字段 / unknown field"
MSG_TEXT = "必须是文本 / must be text"
MSG_BAD_CHARS = "包含不允许的字符 / contains characters that are not allowed"
MSG_NUMBER = "必须是数字 / must be a number"
MSG_INTEGER = "必须是整数 / must be a whole number"
MSG_BOOL = "必须是是/否 / must be yes or no"
MSG_CHOICE = "不在可选项中 / not one of the choices"
MSG_CHOICE_LIST = "必须是选项列表 / must be a list of choices"
MSG_PATTERN = "格式不正确 / does not have the required format"
MSG_EMAIL = "不是有效的电子邮件地址 / not a valid email address"
MSG_PHONE = "不是有效的电话号码 / not a valid phone number"
MSG_DATE = "必须是日期，如 2024-05-01 / must be a date like 2024-05-01"
MSG_TIME = "必须是时间，如 14:30 / must be a time like 14:30"
MSG_DATETIME = "必须是日期时间，如 2024-05-01T14:30 / must be a date and time like 2024-05-01T14:30"
MSG_TOKEN = "附件标识无效 / invalid attachment token"
MSG_FILES = "必须是附件标识列表 / must be a list of attachment tokens"
MSG_ONE_FILE = "只能上传一个文件 / only one file is allowed"


class FormError(DefinitionError):
    """A form file was refused: the message names the file and the component."""


class _FieldError(Exception):
    """One field's value is invalid; the message is what the user sees."""


class Choice(NamedTuple):
    value: str
    label: str
    label_en: str


@dataclass(frozen=True)
class HideIf:
    """A parsed ``conditional.hide`` expression: the component is hidden when ``evaluate`` is true."""

    key: str
    op: str  # "=" or "!="
    value: str | bool
    expression: str

    def evaluate(self, values: Mapping[str, Any]) -> bool:
        """True when the component is hidden, given the (cleaned) values of the other fields.

        A missing value is FEEL ``null``: it equals nothing, so ``key != "v"`` is true for it.
        """
        current = values.get(self.key)
        if isinstance(self.value, bool):
            equal = current is self.value
        else:
            equal = isinstance(current, str) and current == self.value
        return equal if self.op == "=" else not equal


@dataclass(frozen=True, eq=False)
class FormField:
    """One form-js component. Display-only components (text, spacer, separator) have ``key=None``."""

    id: str
    type: str
    key: str | None
    label: str = ""
    label_en: str = ""
    required: bool = False
    values: tuple[Choice, ...] = ()
    values_key: str | None = None
    min: int | float | None = None
    max: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    default: Any = None
    readonly: bool = False
    hide_if: HideIf | None = None
    description: str = ""
    text: str = ""  # the markdown of a ``text`` component
    subtype: str | None = None  # datetime: "date", "time" or "datetime"
    multiple: bool = False  # filepicker: more than one file
    accept: str | None = None  # filepicker: the HTML accept attribute
    decimal_digits: int | None = None  # number: at most this many digits after the point
    validation_type: str | None = None  # text: "email" or "phone"
    properties: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def is_input(self) -> bool:
        return self.key is not None

    @property
    def is_list(self) -> bool:
        return self.type in LIST_TYPES

    def choice(self, value: str) -> Choice | None:
        for choice in self.values:
            if choice.value == value:
                return choice
        return None


@dataclass(frozen=True, eq=False)
class FormSpec:
    id: str
    name: str
    schema_version: int
    components: tuple[FormField, ...]
    sha256: str
    _by_key: Mapping[str, FormField] = field(init=False, repr=False, compare=False)
    _order: tuple[FormField, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key = {c.key: c for c in self.components if c.key is not None}
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))
        object.__setattr__(self, "_order", _evaluation_order(self.name, by_key))

    @property
    def fields(self) -> tuple[FormField, ...]:
        """The input components, in document order."""
        return tuple(self._by_key.values())

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._by_key)

    def field(self, key: str) -> FormField:
        """The input component bound to ``key``; KeyError if there is none."""
        return self._by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self._by_key


# --------------------------------------------------------------------------------------------------
# Loading


def load_form(path: str | Path) -> FormSpec:
    """Read and check one ``.form`` file; FormError names the file and component on any problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormError(f"{path}: cannot read form file: {exc}") from exc
    return _load_bytes(data, path.name)


def load_form_text(text: str, name: str) -> FormSpec:
    """Parse form-js JSON ``text``; ``name`` (usually the file name) prefixes every error message."""
    return _parse(text, name, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())


def _load_bytes(data: bytes, name: str) -> FormSpec:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormError(f"{name}: form file is not UTF-8: {exc}") from exc
    return _parse(text, name, hashlib.sha256(data).hexdigest())


def _reject_duplicate_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate JSON member {key!r}")
        result[key] = value
    return result


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not valid JSON")


def _parse(text: str, name: str, sha256: str) -> FormSpec:
    try:
        doc = json.loads(text, object_pairs_hook=_reject_duplicate_members, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError is a ValueError too
        raise FormError(f"{name}: not valid form JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise FormError(f"{name}: a form file must be a JSON object")
    if doc.get("type") != "default":
        raise FormError(f'{name}: the form must have "type": "default" (got {doc.get("type")!r})')
    form_id = doc.get("id")
    if not isinstance(form_id, str) or not form_id:
        raise FormError(f'{name}: the form needs a string "id"')
    schema_version = doc.get("schemaVersion")
    if not isinstance(schema_version, int) or isinstance(schema_version, bool) or schema_version < 1:
        raise FormError(f'{name}: the form needs an integer "schemaVersion"')
    raw_components = doc.get("components")
    if not isinstance(raw_components, list):
        raise FormError(f'{name}: the form needs a "components" list')

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

    by_key = {c.key: c for c in components if c.key is not None}
    for component in components:
        if component.hide_if is not None:
            _check_hide_if(name, component, by_key)
    return FormSpec(
        id=form_id, name=name, schema_version=schema_version, components=tuple(components), sha256=sha256
    )


def _parse_component(raw: Any, index: int, name: str) -> FormField:
    if not isinstance(raw, dict):
        raise FormError(f"{name}: components[{index}] is not a JSON object")
    cid = raw.get("id")
    ctype = raw.get("type")
    where = f"{name}: component {cid!r}" if isinstance(cid, str) and cid else f"{name}: components[{index}]"
    if not isinstance(cid, str) or not cid:
        raise FormError(f'{where}: every component needs a string "id"')
    if ctype not in INPUT_TYPES and ctype not in DISPLAY_TYPES:
        supported = ", ".join(sorted(INPUT_TYPES | DISPLAY_TYPES))
        raise FormError(f"{where}: unsupported component type {ctype!r} (supported: {supported})")

    properties = raw.get("properties") or {}
    if not isinstance(properties, dict) or not all(isinstance(v, str) for v in properties.values()):
        raise FormError(f'{where}: "properties" must be an object of string values')
    hide_if = _parse_hide_if(raw.get("conditional"), where)

    if ctype in DISPLAY_TYPES:
        text = raw.get("text", "")
        if not isinstance(text, str):
            raise FormError(f'{where}: "text" must be a string')
        return FormField(
            id=cid,
            type=ctype,
            key=None,
            label=_string(raw, "label", where),
            label_en=properties.get("label_en", ""),
            hide_if=hide_if,
            text=text,
            properties=MappingProxyType(dict(properties)),
        )

    key = raw.get("key")
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise FormError(f"{where}: an input needs a key made of letters, digits and _ (got {key!r})")
    where = f"{where} (key {key!r})"

    label = _string(raw, "label", where)
    if ctype == "datetime" and not label:
        label = _string(raw, "dateLabel", where) or _string(raw, "timeLabel", where)
    if label.startswith("="):
        raise FormError(f"{where}: expression labels are not supported")
    label_en = properties.get("label_en") or label

    readonly = _flag(raw, "readonly", where) or _flag(raw, "disabled", where)
    rules = raw.get("validate") or {}
    if not isinstance(rules, dict):
        raise FormError(f'{where}: "validate" must be an object')
    unknown_rules = set(rules) - _VALIDATE_KEYS
    if unknown_rules:
        raise FormError(f"{where}: unsupported validate rule(s) {sorted(unknown_rules)}")
    required = rules.get("required", False)
    if not isinstance(required, bool):
        raise FormError(f"{where}: validate.required must be true or false")

    attrs: dict[str, Any] = {}
    if ctype == "number":
        attrs["min"] = _number_rule(rules, "min", where)
        attrs["max"] = _number_rule(rules, "max", where)
        if attrs["min"] is not None and attrs["max"] is not None and attrs["min"] > attrs["max"]:
            raise FormError(f"{where}: validate.min is larger than validate.max")
        digits = raw.get("decimalDigits")
        if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or digits < 0):
            raise FormError(f"{where}: decimalDigits must be a non-negative integer")
        attrs["decimal_digits"] = digits
        for unsupported in ("increment", "serializeToString"):
            if raw.get(unsupported):
                raise FormError(f"{where}: {unsupported} is not supported")
    elif any(k in rules for k in ("min", "max")):
        raise FormError(f"{where}: validate.min/max only apply to number fields")

    if ctype in TEXT_TYPES:
        attrs["min_length"] = _length_rule(rules, "minLength", where)
        attrs["max_length"] = _length_rule(rules, "maxLength", where)
        if (
            attrs["min_length"] is not None
            and attrs["max_length"] is not None
            and attrs["min_length"] > attrs["max_length"]
        ):
            raise FormError(f"{where}: validate.minLength is larger than validate.maxLength")
        pattern = rules.get("pattern")
        if pattern is not None:
            if not isinstance(pattern, str) or not pattern:
                raise FormError(f"{where}: validate.pattern must be a non-empty string")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise FormError(
                    f"{where}: validate.pattern is not a valid regular expression: {exc}"
                ) from exc
        attrs["pattern"] = pattern
        validation_type = rules.get("validationType")
        if validation_type not in (None, "", "custom", "email", "phone"):
            raise FormError(f"{where}: unsupported validate.validationType {validation_type!r}")
        attrs["validation_type"] = validation_type if validation_type in ("email", "phone") else None
    elif any(k in rules for k in ("minLength", "maxLength", "pattern", "validationType")):
        raise FormError(f"{where}: minLength/maxLength/pattern/validationType only apply to text fields")

    if ctype in CHOICE_TYPES:
        values, values_key = _parse_choices(raw, properties, where)
        attrs["values"] = values
        attrs["values_key"] = values_key
    elif any(k in raw for k in ("values", "valuesKey", "valuesExpression")) or "values_en" in properties:
        raise FormError(
            f"{where}: choices (values/valuesKey/values_en) only apply to radio, select, checklist"
        )

    if ctype == "datetime":
        subtype = raw.get("subtype", "date")
        if subtype not in DATETIME_SUBTYPES:
            raise FormError(f"{where}: unsupported datetime subtype {subtype!r}")
        if raw.get("disallowPassedDates"):
            raise FormError(f"{where}: disallowPassedDates is not supported")
        attrs["subtype"] = subtype

    if ctype == "filepicker":
        attrs["multiple"] = _flag(raw, "multiple", where)
        accept = raw.get("accept")
        if accept is not None and (not isinstance(accept, str) or accept.startswith("=")):
            raise FormError(f'{where}: "accept" must be a plain string')
        attrs["accept"] = accept

    component = FormField(
        id=cid,
        type=ctype,
        key=key,
        label=label,
        label_en=label_en,
        required=required,
        readonly=readonly,
        hide_if=hide_if,
        description=_string(raw, "description", where),
        properties=MappingProxyType(dict(properties)),
        **attrs,
    )
    if "defaultValue" in raw and raw["defaultValue"] is not None:
        if ctype == "filepicker":
            raise FormError(f"{where}: a filepicker cannot have a defaultValue")
        choices = None if component.values_key else [c.value for c in component.values]
        try:
            default = _clean_value(component, raw["defaultValue"], choices)
        except _FieldError as exc:
            raise FormError(f"{where}: defaultValue is invalid: {exc}") from exc
        component = replace(component, default=default)
    return component


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


def _check_hide_if(name: str, component: FormField, by_key: Mapping[str, FormField]) -> None:
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


def _evaluation_order(name: str, by_key: Mapping[str, FormField]) -> tuple[FormField, ...]:
    """Input fields ordered so that each field comes after the field its visibility depends on."""
    order: list[FormField] = []
    state: dict[str, str] = {}

    def visit(f: FormField, chain: list[str]) -> None:
        assert f.key is not None
        if state.get(f.key) == "done":
            return
        if state.get(f.key) == "visiting":
            raise FormError(
                f"{name}: conditional.hide expressions form a cycle: {' -> '.join(chain + [f.key])}"
            )
        state[f.key] = "visiting"
        if f.hide_if is not None and f.hide_if.key in by_key:
            visit(by_key[f.hide_if.key], chain + [f.key])
        state[f.key] = "done"
        order.append(f)

    for f in by_key.values():
        visit(f, [])
    return tuple(order)


# --------------------------------------------------------------------------------------------------
# Validation

_MISSING = object()


def validate(
    form: FormSpec, submitted: Mapping[str, Any], options: Mapping[str, list[Any]] | None = None
) -> dict:
    """Check ``submitted`` against ``form`` and return the cleaned, JSON-native values.

    * unknown keys are refused; read-only inputs are never taken from the submission;
    * a field hidden by its ``conditional.hide`` (evaluated on the cleaned values) is neither
      required nor returned;
    * a visible field that is absent takes its ``defaultValue`` (except checkbox and checklist, where
      absence is how an HTML form says "nothing ticked"); an empty optional field comes back as
      ``None`` (``False`` for a checkbox, ``[]`` for checklist and filepicker);
    * ``options[values_key]`` lists the allowed values of fields with a ``valuesKey`` (strings, or
      form-js style ``{"label": ..., "value": ...}`` objects).

    Raises ``ValidationError`` with one Chinese/English message per offending key in ``fields``.
    """
    if not isinstance(submitted, Mapping):
        raise ValidationError("提交的数据必须是对象 / the submitted data must be an object")
    errors: dict[str, str] = {}
    for key in submitted:
        if not isinstance(key, str) or key not in form:
            errors[str(key)] = MSG_UNKNOWN

    context: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for f in form._order:
        key = f.key
        assert key is not None
        context[key] = None
        if f.readonly or (f.hide_if is not None and f.hide_if.evaluate(context)):
            continue
        raw = submitted.get(key, _MISSING)
        # An HTML form leaves out unticked checkboxes and checklists, so for them absence means
        # "nothing ticked"; other absent fields take their defaultValue.
        if raw is _MISSING and f.default is not None and f.type not in ("checkbox", "checklist"):
            raw = f.default
        try:
            value = _clean_present(f, raw, _choices_for(f, options))
        except _FieldError as exc:
            errors[key] = str(exc)
            continue
        context[key] = value
        cleaned[key] = value

    if errors:
        details = "; ".join(f"{key}: {message}" for key, message in errors.items())
        raise ValidationError(f"表单填写有误 / the form has errors ({form.name}): {details}", fields=errors)
    return {key: cleaned[key] for key in form.keys if key in cleaned}


def _choices_for(f: FormField, options: Mapping[str, list[Any]] | None) -> list[str] | None:
    if f.type not in CHOICE_TYPES:
        return None
    if f.values_key is None:
        return [c.value for c in f.values]
    if options is None or f.values_key not in options:
        # A programming error in the caller, not a user mistake: the task data must supply them.
        raise LookupError(f"validate(): options[{f.values_key!r}] is needed for field {f.key!r}")
    allowed: list[str] = []
    for item in options[f.values_key]:
        value = item.get("value") if isinstance(item, Mapping) else item
        if isinstance(value, str):
            allowed.append(value)
    return allowed


def _clean_present(f: FormField, raw: Any, choices: list[str] | None) -> Any:
    """Clean one visible field's value and apply ``required``."""
    value = None if raw is _MISSING else _clean_value(f, raw, choices)
    if f.type == "checkbox":
        value = bool(value)
        if f.required and not value:
            raise _FieldError(MSG_MUST_CHECK)
        return value
    if value is None or value == []:
        if f.required:
            raise _FieldError(MSG_REQUIRED)
        return [] if f.is_list else None
    return value


def _clean_value(f: FormField, raw: Any, choices: list[str] | None) -> Any:
    """Coerce ``raw`` to the field's type and check its rules; ``None``/``[]`` mean empty."""
    if raw is None:
        return None
    if f.type in TEXT_TYPES:
        return _clean_text(f, raw)
    if f.type == "number":
        return _clean_number(f, raw)
    if f.type == "checkbox":
        return _clean_bool(raw)
    if f.type in ("radio", "select"):
        return _clean_choice(raw, choices)
    if f.type == "checklist":
        return _clean_checklist(raw, choices)
    if f.type == "datetime":
        return _clean_datetime(f, raw)
    if f.type == "filepicker":
        return _clean_files(f, raw)
    raise AssertionError(f"unhandled component type {f.type!r}")  # pragma: no cover


def _clean_text(f: FormField, raw: Any) -> str | None:
    if not isinstance(raw, str):
        raise _FieldError(MSG_TEXT)
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return None
    allowed_controls = "\n\t" if f.type == "textarea" else "\t"
    if any((ord(ch) < 0x20 and ch not in allowed_controls) or ord(ch) == 0x7F for ch in text):
        raise _FieldError(MSG_BAD_CHARS)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise _FieldError(MSG_BAD_CHARS) from exc
    max_length = f.max_length if f.max_length is not None else DEFAULT_MAX_TEXT_LENGTH
    if len(text) > max_length:
        raise _FieldError(f"不能超过 {max_length} 个字符 / must be at most {max_length} characters")
    if f.min_length is not None and len(text) < f.min_length:
        raise _FieldError(f"至少需要 {f.min_length} 个字符 / must be at least {f.min_length} characters")
    if f.pattern is not None and not re.search(f.pattern, text):
        raise _FieldError(MSG_PATTERN)
    if f.validation_type == "email" and not _EMAIL_RE.fullmatch(text):
        raise _FieldError(MSG_EMAIL)
    if f.validation_type == "phone" and not _PHONE_RE.fullmatch(text):
        raise _FieldError(MSG_PHONE)
    return text


def _clean_number(f: FormField, raw: Any) -> int | float | None:
    number: int | float
    if isinstance(raw, bool):
        raise _FieldError(MSG_NUMBER)
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise _FieldError(MSG_NUMBER)
        number = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        if _INT_RE.fullmatch(text):
            number = int(text)
        elif _DECIMAL_RE.fullmatch(text):
            number = float(text)
            if not math.isfinite(number):
                raise _FieldError(MSG_NUMBER)
        else:
            raise _FieldError(MSG_NUMBER)
    else:
        raise _FieldError(MSG_NUMBER)

    if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
        number = int(number)
    if f.decimal_digits is not None and isinstance(number, float):
        exponent = Decimal(repr(number)).normalize().as_tuple().exponent
        digits = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if digits > f.decimal_digits:
            if f.decimal_digits == 0:
                raise _FieldError(MSG_INTEGER)
            raise _FieldError(
                f"最多 {f.decimal_digits} 位小数 / at most {f.decimal_digits} digits after the decimal point"
            )
    if f.min is not None and number < f.min:
        raise _FieldError(f"不能小于 {f.min} / must be at least {f.min}")
    if f.max is not None and number > f.max:
        raise _FieldError(f"不能大于 {f.max} / must be at most {f.max}")
    return number


def _clean_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in _TRUE_STRINGS:
            return True
        if text in _FALSE_STRINGS:
            return False
    raise _FieldError(MSG_BOOL)


def _clean_choice(raw: Any, choices: list[str] | None) -> str | None:
    if not isinstance(raw, str):
        raise _FieldError(MSG_CHOICE)
    value = raw.strip()
    if not value:
        return None
    if choices is not None and value not in choices:
        raise _FieldError(MSG_CHOICE)
    return value


def _clean_checklist(raw: Any, choices: list[str] | None) -> list[str]:
    if isinstance(raw, str):
        items: list[Any] = [raw] if raw.strip() else []
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise _FieldError(MSG_CHOICE_LIST)
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise _FieldError(MSG_CHOICE_LIST)
        value = item.strip()
        if choices is not None and value not in choices:
            raise _FieldError(MSG_CHOICE)
        if value not in result:
            result.append(value)
    return result


def _clean_datetime(f: FormField, raw: Any) -> str | None:
    message = {"date": MSG_DATE, "time": MSG_TIME}.get(f.subtype or "date", MSG_DATETIME)
    if not isinstance(raw, str):
        raise _FieldError(message)
    text = raw.strip()
    if not text:
        return None
    try:
        if f.subtype == "time":
            if not _TIME_RE.fullmatch(text):
                raise ValueError(text)
            parsed_time = time.fromisoformat(text.replace("Z", "+00:00"))
            return parsed_time.isoformat(timespec="seconds" if parsed_time.second else "minutes")
        if f.subtype == "datetime":
            if not _DATETIME_RE.fullmatch(text):
                raise ValueError(text)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed.isoformat(timespec="seconds" if parsed.second or parsed.microsecond else "minutes")
        if not _DATE_RE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise _FieldError(message) from exc


def _clean_files(f: FormField, raw: Any) -> list[str]:
    if isinstance(raw, str):
        items: list[Any] = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise _FieldError(MSG_FILES)
    tokens: list[str] = []
    for item in items:
        if not isinstance(item, str) or not ATTACHMENT_TOKEN_RE.fullmatch(item):
            raise _FieldError(MSG_TOKEN)
        if item not in tokens:
            tokens.append(item)
    if len(tokens) > 1 and not f.multiple:
        raise _FieldError(MSG_ONE_FILE)
    return tokens


# --------------------------------------------------------------------------------------------------
# Registry

_CacheKey = tuple[tuple[str, str], ...]
_cache: dict[Path, tuple[_CacheKey, dict[str, FormSpec]]] = {}
_cache_lock = threading.Lock()


class FormRegistry:
    """All ``*.form`` files of one directory, by task id (the file name without ``.form``).

    Files are parsed once per process: the parsed forms are cached by directory and the files'
    sha256, so a second registry over unchanged files (or ``reload()`` after no change) reuses them.
    Any invalid file makes the whole directory fail with FormError.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).resolve()
        self._forms: dict[str, FormSpec] = {}
        self.digest = ""
        self.reload()

    def reload(self) -> bool:
        """Re-scan the directory; True if any file was added, removed or changed."""
        if not self.directory.is_dir():
            raise FormError(f"{self.directory}: form directory does not exist")
        contents: dict[str, bytes] = {}
        for path in sorted(self.directory.glob("*.form")):
            try:
                contents[path.name] = path.read_bytes()
            except OSError as exc:
                raise FormError(f"{path}: cannot read form file: {exc}") from exc
        key: _CacheKey = tuple((n, hashlib.sha256(data).hexdigest()) for n, data in contents.items())
        digest = hashlib.sha256("\n".join(f"{n} {h}" for n, h in key).encode()).hexdigest()
        with _cache_lock:
            cached = _cache.get(self.directory)
            if cached is not None and cached[0] == key:
                forms = cached[1]
            else:
                forms = self._parse_all(contents)
                _cache[self.directory] = (key, forms)
        changed = digest != self.digest
        self._forms, self.digest = forms, digest
        return changed

    @staticmethod
    def _parse_all(contents: dict[str, bytes]) -> dict[str, FormSpec]:
        forms: dict[str, FormSpec] = {}
        form_ids: dict[str, str] = {}
        for file_name, data in contents.items():
            spec = _load_bytes(data, file_name)
            if spec.id in form_ids:
                raise FormError(f"{file_name}: form id {spec.id!r} is also used by {form_ids[spec.id]}")
            form_ids[spec.id] = file_name
            forms[file_name.removesuffix(".form")] = spec
        return forms

    def get(self, task_id: str) -> FormSpec:
        try:
            return self._forms[task_id]
        except KeyError:
            raise KeyError(f"no form {task_id}.form in {self.directory}") from None

    def task_ids(self) -> list[str]:
        return sorted(self._forms)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._forms

    def __iter__(self) -> Iterator[str]:
        return iter(self.task_ids())

    def __len__(self) -> int:
        return len(self._forms)

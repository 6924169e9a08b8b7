"""Checking a submitted task form against its spec: submission in, clean JSON-native data out.

``validate`` refuses unknown keys, so a submission can never set a process variable the form
does not declare. Messages next to a field are Chinese first, then English.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from engine.errors import ValidationError
from engine.forms.spec import CHOICE_TYPES, TEXT_TYPES, FormField, FormSpec

#: An uploaded file is referred to by an opaque token handed out by the attachment store.
ATTACHMENT_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
#: Text fields without a ``maxLength`` are still capped, so nobody can store megabytes in a variable.
DEFAULT_MAX_TEXT_LENGTH = 10_000

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


class FieldError(Exception):
    """One field's value is invalid; the message is what the user sees."""


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
    for name in submitted:
        if not isinstance(name, str) or name not in form:
            errors[str(name)] = MSG_UNKNOWN

    context: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for f in form.evaluation_order:
        key = f.key
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
        except FieldError as exc:
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
    value = None if raw is _MISSING else clean_value(f, raw, choices)
    if f.type == "checkbox":
        value = bool(value)
        if f.required and not value:
            raise FieldError(MSG_MUST_CHECK)
        return value
    if value is None or value == []:
        if f.required:
            raise FieldError(MSG_REQUIRED)
        return [] if f.is_list else None
    return value


def clean_value(f: FormField, raw: Any, choices: list[str] | None) -> Any:
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
        raise FieldError(MSG_TEXT)
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return None
    allowed_controls = "\n\t" if f.type == "textarea" else "\t"
    if any((ord(ch) < 0x20 and ch not in allowed_controls) or ord(ch) == 0x7F for ch in text):
        raise FieldError(MSG_BAD_CHARS)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise FieldError(MSG_BAD_CHARS) from exc
    max_length = f.max_length if f.max_length is not None else DEFAULT_MAX_TEXT_LENGTH
    if len(text) > max_length:
        raise FieldError(f"不能超过 {max_length} 个字符 / must be at most {max_length} characters")
    if f.min_length is not None and len(text) < f.min_length:
        raise FieldError(f"至少需要 {f.min_length} 个字符 / must be at least {f.min_length} characters")
    if f.pattern is not None and not re.search(f.pattern, text):
        raise FieldError(MSG_PATTERN)
    if f.validation_type == "email" and not _EMAIL_RE.fullmatch(text):
        raise FieldError(MSG_EMAIL)
    if f.validation_type == "phone" and not _PHONE_RE.fullmatch(text):
        raise FieldError(MSG_PHONE)
    return text


def _clean_number(f: FormField, raw: Any) -> int | float | None:
    number: int | float
    if isinstance(raw, bool):
        raise FieldError(MSG_NUMBER)
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise FieldError(MSG_NUMBER)
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
                raise FieldError(MSG_NUMBER)
        else:
            raise FieldError(MSG_NUMBER)
    else:
        raise FieldError(MSG_NUMBER)

    if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
        number = int(number)
    if f.decimal_digits is not None and isinstance(number, float):
        exponent = Decimal(repr(number)).normalize().as_tuple().exponent
        digits = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if digits > f.decimal_digits:
            if f.decimal_digits == 0:
                raise FieldError(MSG_INTEGER)
            raise FieldError(
                f"最多 {f.decimal_digits} 位小数 / at most {f.decimal_digits} digits after the decimal point"
            )
    if f.min is not None and number < f.min:
        raise FieldError(f"不能小于 {f.min} / must be at least {f.min}")
    if f.max is not None and number > f.max:
        raise FieldError(f"不能大于 {f.max} / must be at most {f.max}")
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
    raise FieldError(MSG_BOOL)


def _clean_choice(raw: Any, choices: list[str] | None) -> str | None:
    if not isinstance(raw, str):
        raise FieldError(MSG_CHOICE)
    value = raw.strip()
    if not value:
        return None
    if choices is not None and value not in choices:
        raise FieldError(MSG_CHOICE)
    return value


def _clean_checklist(raw: Any, choices: list[str] | None) -> list[str]:
    if isinstance(raw, str):
        items: list[Any] = [raw] if raw.strip() else []
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise FieldError(MSG_CHOICE_LIST)
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise FieldError(MSG_CHOICE_LIST)
        value = item.strip()
        if choices is not None and value not in choices:
            raise FieldError(MSG_CHOICE)
        if value not in result:
            result.append(value)
    return result


def _clean_datetime(f: FormField, raw: Any) -> str | None:
    message = {"date": MSG_DATE, "time": MSG_TIME}.get(f.subtype or "date", MSG_DATETIME)
    if not isinstance(raw, str):
        raise FieldError(message)
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
        raise FieldError(message) from exc


def _clean_files(f: FormField, raw: Any) -> list[str]:
    if isinstance(raw, str):
        items: list[Any] = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise FieldError(MSG_FILES)
    tokens: list[str] = []
    for item in items:
        if not isinstance(item, str) or not ATTACHMENT_TOKEN_RE.fullmatch(item):
            raise FieldError(MSG_TOKEN)
        if item not in tokens:
            tokens.append(item)
    if len(tokens) > 1 and not f.multiple:
        raise FieldError(MSG_ONE_FILE)
    return tokens

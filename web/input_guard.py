"""One gate for request input, before any view runs: what no view, query or database may receive.

Refused with 400 naming the field (in each surface's error shape, see ``web.responses``):
* bytes that are not UTF-8 in the path, query string or a form body;
* NUL and the other control characters (C0 and C1) anywhere; tab, newline and carriage return
  are allowed only in free text: form values and JSON string values;
* lone surrogates (``"\\ud800"`` in JSON): they cannot be stored or encoded;
* JSON bodies larger than ``JSON_MAX_BYTES``, nested deeper than ``JSON_MAX_DEPTH``, or malformed;
* query parameters longer than their limit or not of their type (``PARAMS``).
Path parameters of the wrong shape cannot name anything that exists: 404.

PostgreSQL refuses NUL in text (a 500 before this gate), SQLite stores it: both now see neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from flask import Flask, request
from flask_babel import gettext as _

from web.responses import error_response

JSON_MAX_BYTES = 256 * 1024  # the largest API body (a report or a form) is a few kilobytes
# Endpoints whose bodies are larger by design, with their own limit (a device's photo in base64).
JSON_MAX_BYTES_BY_ENDPOINT = {"api.intake_observation": 2 * 1024 * 1024}
JSON_MAX_DEPTH = 16  # the deepest API body is an object of lists of objects (depth 3)
QUERY_MAX_PARAMS = 50

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # names, paths, query values
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # free text: \t \n \r pass


@dataclass(frozen=True)
class Param:
    max_len: int
    pattern: re.Pattern[str] | None = None
    expect: str = ""  # what the user should send instead, when the pattern does not match


_DIGITS = re.compile(r"[0-9]+")
_CODE = re.compile(r"[A-Za-z0-9_.@-]+")
_CODES = re.compile(r"[A-Za-z0-9_.@,\s-]*")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")

# Path parameters: a value of the wrong shape names nothing that exists (404).
PATH: dict[str, Param] = {
    "task_id": Param(64, _TOKEN), "number": Param(32, _TOKEN), "token": Param(64, _TOKEN),
    "code": Param(32, _CODE), "fmt": Param(4), "key_id": Param(12),
}
# Query parameters by name; any other name gets DEFAULT_QUERY.
QUERY: dict[str, Param] = {
    "limit": Param(6, _DIGITS, "a whole number"),
    "class": Param(16, _CODE, "a problem class code"), "district": Param(12, _DIGITS, "a district code"),
    "street": Param(16, _DIGITS, "a street code"), "grid": Param(20, _DIGITS, "a grid code"),
    "number": Param(32, _TOKEN, "a case number"),
    "service_code": Param(1000, _CODES, "service codes separated by commas"),
    "service_request_id": Param(2000, _CODES, "case numbers separated by commas"),
    "after": Param(200), "next": Param(2000), "start_date": Param(40), "end_date": Param(40),
}
DEFAULT_QUERY = Param(200)


class BadInput(Exception):
    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


def init_input_guard(app: Flask) -> None:
    @app.before_request
    def _guard():
        try:
            check_request()
        except BadInput as exc:
            title = _("Not found") if exc.status == 404 else _("Bad request")
            return error_response(exc.status, title, exc.message, {exc.field: exc.message})
        return None


def check_request() -> None:
    _check_raw_utf8()
    for name, value in (request.view_args or {}).items():
        _check_path(name, str(value))
    if len(request.args) > QUERY_MAX_PARAMS:
        raise BadInput("query", _("Too many query parameters."))
    for name, value in request.args.items(multi=True):
        _check_query(name, value)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            _check_text(name, name, _CONTROL)
            _check_text(name, value, _CONTROL_TEXT)
        for name, storage in request.files.items(multi=True):
            _check_text(name, name, _CONTROL)
            _check_text(name, storage.filename or "", _CONTROL)
    if request.is_json:
        _check_json()


def _check_raw_utf8() -> None:
    _decode(request.environ.get("PATH_INFO", "").encode("latin-1", "replace"), "path")  # already unquoted
    query = request.environ.get("QUERY_STRING", "").encode("latin-1", "replace")
    _decode(unquote_to_bytes(query.replace(b"+", b" ")), "query")
    if request.mimetype == "application/x-www-form-urlencoded":
        body = request.get_data(cache=True)
        _decode(unquote_to_bytes(body.replace(b"+", b" ")), "form")


def _decode(raw: bytes, field: str) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(field, _("The %(field)s is not valid UTF-8 text.", field=field)) from None


def _check_text(field: str, value: str, pattern: re.Pattern[str]) -> None:
    match = pattern.search(value)
    if match is not None:
        field = _CONTROL.sub("?", field)[:80]
        char = match.group()
        kind = _("an invalid character (a lone surrogate)") if "\ud800" <= char <= "\udfff" else \
            _("a control character (U+%(code)04X)", code=ord(char))
        raise BadInput(field, _("%(field)s contains %(kind)s; remove it and send again.", field=field, kind=kind))


def _check_path(name: str, value: str) -> None:
    _check_text(name, value, _CONTROL)
    rule = PATH.get(name, DEFAULT_QUERY)
    if len(value) > rule.max_len or (rule.pattern is not None and not rule.pattern.fullmatch(value)):
        raise BadInput(name, _("There is no %(field)s %(value)s.", field=name, value=value[:40]), 404)


def _check_query(name: str, value: str) -> None:
    _check_text(name, name, _CONTROL)
    _check_text(name, value, _CONTROL)
    rule = QUERY.get(name, DEFAULT_QUERY)
    if len(value) > rule.max_len:
        raise BadInput(name, _("%(field)s is too long (at most %(n)d characters).", field=name, n=rule.max_len))
    if value and rule.pattern is not None and not rule.pattern.fullmatch(value):
        raise BadInput(name, _("%(field)s must be %(expect)s.", field=name, expect=rule.expect))


def _check_json() -> None:
    body = request.get_data(cache=True)
    if not body:
        return
    limit = JSON_MAX_BYTES_BY_ENDPOINT.get(request.endpoint or "", JSON_MAX_BYTES)
    if len(body) > limit:
        raise BadInput("body", _("The JSON body is too large (at most %(n)d bytes).", n=limit))
    try:
        data = orjson.loads(body)  # refuses invalid UTF-8 and lone surrogates; never recurses in Python
    except orjson.JSONDecodeError as exc:
        raise BadInput("body", _("The body is not valid JSON: %(reason)s", reason=str(exc))) from None
    _walk_json(data, "", 1)


def _walk_json(node: Any, path: str, depth: int) -> None:
    if depth > JSON_MAX_DEPTH:
        raise BadInput(path or "body", _("The JSON body is nested too deeply (at most %(n)d levels).",
                                          n=JSON_MAX_DEPTH))
    if isinstance(node, dict):
        for key, value in node.items():
            field = f"{path}.{key}" if path else str(key)
            _check_text(field, key, _CONTROL)
            _walk_json(value, field, depth + 1)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk_json(value, f"{path}[{i}]", depth + 1)
    elif isinstance(node, str):
        _check_text(path or "body", node, _CONTROL_TEXT)

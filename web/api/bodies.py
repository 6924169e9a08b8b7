"""The JSON API's request bodies and query strings as pydantic models.

pydantic checks types and required keys; ``parse`` turns its errors into the API's one error
body ``{"error": message, "fields": {key: message}}`` (status 400) through the engine's
ValidationError, so the documented shape stays the same. What the values mean (a known class,
a valid form value, a level of supervision) is still checked by the engine.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic import ValidationError as PydanticError

from engine.errors import ValidationError
from engine.queries.tasks import MAX_PAGE_SIZE, PAGE_SIZE

M = TypeVar("M", bound="Body")


class Body(BaseModel):
    """Base: ``hints`` give the message shown for a field that is missing or of the wrong type."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    hints: ClassVar[dict[str, str]] = {}
    summary: ClassVar[str] = "invalid request"


def parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        fields: dict[str, str] = {}
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else "body"
            if err["type"] == "extra_forbidden":
                fields[key] = "unknown field; send " + " and ".join(model.model_fields)
            else:
                fields.setdefault(key, model.hints.get(key, err["msg"]))
        detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
        raise ValidationError(f"{model.summary}: {detail}", fields) from None


class LoginBody(Body):
    summary = "username and password are required"
    hints = {"username": "required", "password": "required"}
    username: StrictStr = Field(min_length=1)
    password: StrictStr = Field(min_length=1)
    # the authenticator app's code, for the roles in TOTP_ROLES (web.auth.second_factor)
    code: StrictStr | None = Field(default=None, max_length=16)


class CompleteBody(Body):
    model_config = ConfigDict(extra="forbid", frozen=True)
    hints = {"data": "must be an object of form values",
             "version": "required: the case version (a whole number) from GET /tasks/{id}"}
    data: dict[str, Any] = Field(default_factory=dict)
    version: StrictInt  # required: the version check cannot be skipped (issue 10)


class AssignBody(Body):
    model_config = ConfigDict(extra="forbid", frozen=True)
    summary = "assignee and expected_assignee are required"
    hints = {"assignee": "required: the user name of a person of the task's department",
             "expected_assignee": "required: who held the task when you looked (null for nobody)",
             "reason": "text; required when the task moves from one person to another"}
    assignee: StrictStr = Field(min_length=1, max_length=64)
    expected_assignee: StrictStr | None  # required, may be null: the stale-view check cannot be skipped
    reason: StrictStr = Field(default="", max_length=500)


class SuperviseBody(Body):
    summary = "level (remind | order) and text are required"
    hints = {"level": "required", "text": "required"}
    level: StrictStr
    text: StrictStr


class TaskQuery(Body):
    """``GET /tasks`` query parameters (strings, converted)."""

    summary = "invalid filters"
    hints = {"scope": "all | mine | group", "light": "green | yellow | red",
             "limit": f"a whole number from 1 to {MAX_PAGE_SIZE}"}
    scope: Literal["all", "mine", "group"] = "all"
    light: Literal["green", "yellow", "red"] | None = None
    limit: int = Field(default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    class_code: str | None = Field(default=None, alias="class")
    district: str | None = None
    after: str | None = None


__all__ = ["parse", "LoginBody", "CompleteBody", "AssignBody", "SuperviseBody", "TaskQuery"]

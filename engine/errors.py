"""Errors the entry points turn into HTTP 4xx responses or CLI exit codes."""


class CityCaseError(Exception):
    """Base class: the message says what went wrong and what to do next."""

    http_status = 400


class ValidationError(CityCaseError):
    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class NotFound(CityCaseError):
    http_status = 404


class Forbidden(CityCaseError):
    http_status = 403


class Conflict(CityCaseError):
    """Someone else changed the case first (stale version, task already completed)."""

    http_status = 409


class DefinitionError(CityCaseError):
    """A BPMN/DMN file was refused at deploy time."""

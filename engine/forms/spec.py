"""The typed model of a task form: the components of a form-js file as our code uses them.

Built by :mod:`engine.forms.parse` from a ``.form`` file and read by validation, the task pages
and the API. Only the subset of form-js that citycase supports has fields here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from engine.errors import DefinitionError

INPUT_TYPES = frozenset(
    {"textfield", "textarea", "number", "checkbox", "radio", "select", "checklist", "datetime", "filepicker"}
)
DISPLAY_TYPES = frozenset({"text", "spacer", "separator"})
CHOICE_TYPES = frozenset({"radio", "select", "checklist"})
TEXT_TYPES = frozenset({"textfield", "textarea"})
LIST_TYPES = frozenset({"checklist", "filepicker"})
DATETIME_SUBTYPES = frozenset({"date", "time", "datetime"})


class FormError(DefinitionError):
    """A form file was refused: the message names the file and the component."""


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
class InputField(FormField):
    """A component bound to a process variable: ``key`` is always set (display components have none)."""

    key: str


@dataclass(frozen=True, eq=False)
class FormSpec:
    id: str
    name: str
    schema_version: int
    components: tuple[FormField, ...]
    sha256: str
    _by_key: Mapping[str, InputField] = field(init=False, repr=False, compare=False)
    _order: tuple[InputField, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key = {c.key: c for c in self.components if isinstance(c, InputField)}
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))
        object.__setattr__(self, "_order", _evaluation_order(self.name, by_key))

    @property
    def fields(self) -> tuple[InputField, ...]:
        """The input components, in document order."""
        return tuple(self._by_key.values())

    @property
    def evaluation_order(self) -> tuple[InputField, ...]:
        """The input components, each after the one its ``conditional.hide`` depends on."""
        return self._order

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._by_key)

    def field(self, key: str) -> InputField:
        """The input component bound to ``key``; KeyError if there is none."""
        return self._by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self._by_key


def _evaluation_order(name: str, by_key: Mapping[str, InputField]) -> tuple[InputField, ...]:
    """Input fields ordered so that each field comes after the field its visibility depends on."""
    order: list[InputField] = []
    state: dict[str, str] = {}

    def visit(f: InputField, chain: list[str]) -> None:
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

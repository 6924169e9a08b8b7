"""What changed between two versions: BPMN elements, DMN rules and form fields, each by id.

BPMN elements are compared by their semantic content (tag, attributes, text and children,
diagram layout excluded); DMN rules by their cells; form fields by their JSON. Files present in
only one version are listed as added or removed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lxml import etree

from engine.definitions import safe_xml

_LAYOUT_NAMESPACES = ("http://www.omg.org/spec/BPMN/20100524/DI", "https://www.omg.org/spec/DMN/20191111/DMNDI/")


class Change(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class ElementChange:
    file: str
    element_id: str
    kind: str  # the BPMN/DMN tag (userTask, rule…) or the form field type
    change: Change
    before: str | None = None  # a short description (name, cells)
    after: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "change": str(self.change)}


@dataclass
class VersionDiff:
    added_files: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)
    changes: list[ElementChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added_files or self.removed_files or self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {"added_files": self.added_files, "removed_files": self.removed_files,
                "changes": [c.as_dict() for c in self.changes]}


def _is_layout(el: etree._Element) -> bool:
    return etree.QName(el).namespace in _LAYOUT_NAMESPACES


def _signature(el: etree._Element) -> str:
    """Canonical content of an element without its identified children (they are compared on their own)."""
    parts = [etree.QName(el).localname, json.dumps(sorted(el.attrib.items())), (el.text or "").strip()]
    for child in el:
        if not isinstance(child.tag, str) or _is_layout(child):
            continue
        if child.get("id") and etree.QName(child).localname not in ("inputEntry", "outputEntry"):
            parts.append(f"#{child.get('id')}")  # referenced, compared separately
        else:
            parts.append(_signature(child))
    return "|".join(parts)


def _describe(el: etree._Element) -> str:
    tag = etree.QName(el).localname
    if tag == "rule":
        cells = [(c.findtext("{*}text") or "").strip() for c in el if etree.QName(c).localname.endswith("Entry")]
        return " | ".join(cells)
    if tag == "sequenceFlow":
        return f"{el.get('sourceRef')} → {el.get('targetRef')}" + (f" ({el.get('name')})" if el.get("name") else "")
    return el.get("name") or tag


def _xml_elements(name: str, text: str) -> dict[str, tuple[str, str, str]]:
    root = safe_xml(text, name)
    found: dict[str, tuple[str, str, str]] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or _is_layout(el) or not el.get("id"):
            continue
        tag = etree.QName(el).localname
        if tag in ("inputEntry", "outputEntry", "text"):
            continue  # part of their rule
        found[el.get("id") or ""] = (tag, _signature(el), _describe(el))
    return found


def _form_fields(name: str, text: str) -> dict[str, tuple[str, str, str]]:
    try:
        doc = json.loads(text)
    except ValueError:
        return {}
    found: dict[str, tuple[str, str, str]] = {}

    def walk(components: list[Any]) -> None:
        for comp in components or []:
            if not isinstance(comp, dict):
                continue
            key = comp.get("key") or comp.get("id") or ""
            found[key] = (str(comp.get("type")), json.dumps(comp, sort_keys=True, ensure_ascii=False),
                          str(comp.get("label") or key))
            walk(comp.get("components") or [])

    walk((doc.get("components") or []) if isinstance(doc, dict) else [])
    return found


def _elements(name: str, text: str) -> dict[str, tuple[str, str, str]]:
    return _form_fields(name, text) if name.endswith(".form") else _xml_elements(name, text)


def diff_files(old: dict[str, str], new: dict[str, str]) -> VersionDiff:
    result = VersionDiff(added_files=sorted(new.keys() - old.keys()), removed_files=sorted(old.keys() - new.keys()))
    for name in sorted(old.keys() | new.keys()):
        before = _elements(name, old[name]) if name in old else {}
        after = _elements(name, new[name]) if name in new else {}
        for eid in sorted(before.keys() | after.keys()):
            a, b = before.get(eid), after.get(eid)
            if a is None and b is not None:
                result.changes.append(ElementChange(name, eid, b[0], Change.ADDED, None, b[2]))
            elif b is None and a is not None:
                result.changes.append(ElementChange(name, eid, a[0], Change.REMOVED, a[2], None))
            elif a is not None and b is not None and a[:2] != b[:2]:
                result.changes.append(ElementChange(name, eid, b[0], Change.CHANGED, a[2], b[2]))
    return result


__all__ = ["Change", "ElementChange", "VersionDiff", "diff_files"]

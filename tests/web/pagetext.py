"""What a user reads on a page: its visible text and the attributes a screen reader or a tooltip
shows, and the English words left in it when the page is meant to be Chinese."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Attributes whose text a user sees or hears.
SHOWN_ATTRIBUTES = ("title", "alt", "aria-label", "placeholder", "label")
# Words that are names, codes or units rather than untranslated text.
ALLOWED = frozenset({"WGS", "GCJ", "Open311", "English", "JPEG", "PNG", "WebP", "OpenStreetMap", "Leaflet",
                     "Excel", "CSV", "XES", "OCEL", "IEEE"})  # file formats (the audit page's exports)
# Elements marked translate="no" hold codes and ids on purpose (e.g. the actor ids auditors see).
_SKIPPED_TAGS = ("script", "style", "template")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr"})
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']*")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            self._skip += tag not in _VOID
            return
        if tag in _SKIPPED_TAGS or dict(attrs).get("translate") == "no":
            self._skip += 1
            return
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value:
                self.parts.append(value)
        if tag == "input" and dict(attrs).get("type") in ("submit", "button") and dict(attrs).get("value"):
            self.parts.append(dict(attrs)["value"] or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._skip:  # <x/>: its attributes only, nothing inside to skip
            for name, value in attrs:
                if name in SHOWN_ATTRIBUTES and value:
                    self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and tag not in _VOID:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def shown_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def english_words(html: str, allowed: frozenset[str] = ALLOWED) -> list[str]:
    """The pieces of shown text that contain an English word (three letters or more) not allowed."""
    found = []
    for part in shown_text(html):
        words = [w for w in _WORD.findall(part) if sum(c.isalpha() for c in w) >= 3 and w not in allowed]
        if words:
            found.append(part)
    return found

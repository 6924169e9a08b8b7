"""What Open311 publishes about cases, as the city configures it (engine.config):

* ``OPEN311_PUBLIC_CLASSES`` — ``*`` for every class, else the published class codes (comma-separated);
  cases of other classes are not listed and not found;
* ``OPEN311_ROUND_METRES`` — coordinates snapped to a grid of this many metres (0 = exact);
* ``OPEN311_DESCRIPTIONS`` — ``full``, ``redact`` (phone and ID-card numbers replaced by ***)
  or ``omit``; addresses are redacted the same way unless descriptions are ``full``;
* ``OPEN311_MEDIA`` — ``report`` publishes the reporter's first photo as ``media_url``, ``none`` nothing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

METRES_PER_DEGREE = 111_320.0
# Mainland ID cards (18 digits, the last may be X; old 15-digit ones), mobiles (11 digits from 1[3-9]),
# landlines (0 + area code + 7–8 digits, with or without a dash) — also inside longer text.
_PRIVATE_NUMBERS = re.compile(
    r"(?<![0-9])(?:[1-9][0-9]{16}[0-9Xx]|[1-9][0-9]{14}|(?:\+?86[- ]?)?1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})(?![0-9])")
REDACTED = "***"


class DescriptionPolicy(StrEnum):
    FULL = "full"
    REDACT = "redact"
    OMIT = "omit"


@dataclass(frozen=True)
class Publication:
    classes: frozenset[str] | None  # None: every class
    round_metres: float
    descriptions: DescriptionPolicy
    media: bool = True

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Publication:
        raw = str(config.get("OPEN311_PUBLIC_CLASSES", "*")).strip()
        classes = None if raw == "*" else frozenset(c.strip() for c in raw.split(",") if c.strip())
        return cls(classes, float(config.get("OPEN311_ROUND_METRES", 0) or 0),
                   DescriptionPolicy(str(config.get("OPEN311_DESCRIPTIONS", "redact")).strip().lower()),
                   str(config.get("OPEN311_MEDIA", "report")).strip().lower() == "report")

    def is_public(self, class_code: str | None) -> bool:
        return self.classes is None or class_code in self.classes

    def apply(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A request's GeoReport fields as published."""
        out = dict(fields)
        if self.descriptions is DescriptionPolicy.OMIT:
            out["description"] = None
        if self.descriptions is not DescriptionPolicy.FULL:
            for key in ("description", "address"):
                if out.get(key):
                    out[key] = redact(out[key])
        if self.round_metres > 0 and out.get("lat") is not None and out.get("long") is not None:
            out["lat"], out["long"] = snap(out["lat"], out["long"], self.round_metres)
        return out


def redact(text: str) -> str:
    return _PRIVATE_NUMBERS.sub(REDACTED, text)


def snap(lat: float, lon: float, metres: float) -> tuple[float, float]:
    """The centre of the ``metres`` grid cell holding the point (so nearby reports share a spot)."""
    lat_step = metres / METRES_PER_DEGREE
    lon_step = metres / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return (round((math.floor(lat / lat_step) + 0.5) * lat_step, 6),
            round((math.floor(lon / lon_step) + 0.5) * lon_step, 6))

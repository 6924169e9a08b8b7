"""Shared helpers for the designer tests: the bpmn/ files, designers, and edited variants."""

from __future__ import annotations

import re
from pathlib import Path

from engine.definitions import read_definition_files
from engine.model import Actor

ROOT = Path(__file__).resolve().parents[3]
DESIGNER1 = Actor("designer1", "designer")
DESIGNER2 = Actor("designer2", "designer")


def bpmn_files() -> dict[str, str]:
    return read_definition_files([ROOT / "bpmn"])


def with_department(files: dict[str, str], class_code: str, department: str) -> dict[str, str]:
    """The dispatch rule of ``class_code`` sends it to ``department`` instead."""
    dmn = files["dispatch.dmn"]
    pattern = re.compile(r'(<inputEntry id="[^"]+"><text>"' + class_code +
                         r'"</text></inputEntry>.*?<outputEntry id="[^"]+"><text>)"[^"]*"', re.S)
    changed, n = pattern.subn(lambda m: m.group(1) + f'"{department}"', dmn, count=1)
    assert n == 1, f"no dispatch rule for {class_code}"
    return {**files, "dispatch.dmn": changed}


def with_first_limit(files: dict[str, str], value: str) -> dict[str, str]:
    dmn = files["time_limits.dmn"]
    changed = re.sub(r'(<outputEntry id="Out_time_limits_1_0"><text>)[^<]*', rf"\g<1>{value}", dmn, count=1)
    assert changed != dmn
    return {**files, "time_limits.dmn": changed}

"""Collecting benchmark results and writing them as JSON and as a readable table.

Every measurement is an entry ``{"name", "value", "unit", "target", "met"}``:
``target`` is a human-readable bound such as ``">= 1000"`` (or null for numbers reported for
context only) and ``met`` is true/false against that bound (null when there is no target or the
value could not be measured). A missed target is printed as ``MISSED``: the bench never bends a
measurement to meet a target.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_CMP = {">=": lambda v, t: v >= t, "<=": lambda v, t: v <= t}


@dataclass
class Entry:
    name: str
    value: float
    unit: str
    target: str | None = None
    met: bool | None = None
    section: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit, "target": self.target,
                "met": self.met, "section": self.section}


@dataclass
class Results:
    machine: dict[str, Any] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    section: str = ""
    memory: dict[str, float] = field(default_factory=dict)  # peak RSS (MB) by process, for the memory section
    started: float = field(default_factory=time.time)

    def add(self, name: str, value: float, unit: str, target: str | None = None) -> Entry:
        """Record a number; ``target`` like ">= 1000" or "<= 20" decides ``met``."""
        value = _round(value)
        met: bool | None = None
        if target is not None:
            op, bound = target.split(None, 1)
            met = bool(_CMP[op](value, float(bound)))
        entry = Entry(name, value, unit, target, met, self.section)
        self.entries.append(entry)
        return entry

    def note(self, text: str) -> None:
        prefix = f"[{self.section}] " if self.section else ""
        self.notes.append(prefix + text)

    def as_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "entries": [e.as_dict() for e in self.entries], "notes": self.notes,
                "seconds": round(time.time() - self.started, 1)}

    def write(self, out_dir: Path) -> tuple[Path, Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path = out_dir / "results.json"
        txt_path = out_dir / "results.txt"
        json_path.write_text(json.dumps(self.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        txt_path.write_text(self.table(), encoding="utf-8")
        return json_path, txt_path

    def table(self) -> str:
        lines = ["citycase bench — " + machine_line(self.machine), ""]
        width = max([len(e.name) for e in self.entries] + [10])
        header = f"{'measurement':<{width}}  {'value':>12}  {'unit':<10}  {'target':<10}  result"
        current = None
        for e in self.entries:
            if e.section != current:
                current = e.section
                lines += ["", f"== {current}", header, "-" * len(header)]
            result = {True: "ok", False: "MISSED", None: ""}[e.met]
            lines.append(f"{e.name:<{width}}  {_fmt(e.value):>12}  {e.unit:<10}  {e.target or '':<10}  {result}")
        missed = [e for e in self.entries if e.met is False]
        lines += ["", f"targets: {sum(1 for e in self.entries if e.met)} met, {len(missed)} missed"
                  + (":" if missed else "")]
        lines += [f"  MISSED  {e.section} / {e.name}: {_fmt(e.value)} {e.unit} (target {e.target})" for e in missed]
        if self.notes:
            lines += ["", "notes:"] + [f"- {n}" for n in self.notes]
        lines.append(f"\n(total run time {time.time() - self.started:.0f} s)")
        return "\n".join(lines) + "\n"


def _round(value: float) -> float:
    if isinstance(value, bool):
        return float(value)
    value = float(value)
    if value == 0 or abs(value) >= 100:
        return round(value, 1)
    if abs(value) >= 1:
        return round(value, 2)
    return round(value, 4)


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


# --- the machine ---------------------------------------------------------------------------------

def machine_info(postgres_version: str | None = None) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_mb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mb": memory_mb,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "postgresql": postgres_version, "os": f"{platform.system()} {platform.release()}"}


def machine_line(m: dict[str, Any]) -> str:
    mem = f"{m.get('memory_mb', 0) / 1024:.1f} GB RAM" if m.get("memory_mb") else "? RAM"
    pg = m.get("postgresql") or "not available"
    return (f"{m.get('cpu')}, {m.get('cores')} cores, {mem}; Python {m.get('python')}, "
            f"SQLite {m.get('sqlite')}, PostgreSQL {pg}")

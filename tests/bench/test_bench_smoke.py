"""Smoke test of ``citycase bench``: a tiny quick run, checked for the shape of its output only.

No timing is asserted here (numbers on a shared CI machine mean nothing); the full bench is
``make bench``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_writes_well_formed_results(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "bench", "--quick", "--postgres", "none", "--only", "engine,inbox",
         "--engine-cases", "6", "--inbox-cases", "300", "--inbox-repeat", "3", "--no-profile",
         "--output", str(out), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert json.loads(proc.stdout)["entries"] == data["entries"]  # --json prints the same document
    assert set(data) >= {"machine", "entries", "notes"}
    for key in ("cpu", "cores", "memory_mb", "python", "sqlite", "postgresql"):
        assert key in data["machine"]
    assert isinstance(data["notes"], list) and all(isinstance(n, str) for n in data["notes"])
    assert not any(n.startswith("[engine] FAILED") or n.startswith("[inbox] FAILED") for n in data["notes"])

    entries = data["entries"]
    assert entries, "no measurements"
    for e in entries:
        assert isinstance(e["name"], str) and e["name"]
        assert isinstance(e["value"], int | float) and not isinstance(e["value"], bool)
        assert isinstance(e["unit"], str) and e["unit"]
        assert e["target"] is None or isinstance(e["target"], str)
        assert e["met"] is None or isinstance(e["met"], bool)
        assert (e["target"] is None) == (e["met"] is None)
    sections = {e["section"] for e in entries}
    assert "engine" in sections and any(s.startswith("inbox") for s in sections)
    names = {e["name"] for e in entries}
    assert "in memory (SpiffWorkflow only), 1 process" in names
    assert "persisted SQLite, 1 process" in names
    assert any(n.endswith(" p95") for n in names)
    assert any("bulk-loaded, not run through the engine" in n for n in data["notes"])

    table = (out / "results.txt").read_text(encoding="utf-8")
    assert "persisted SQLite, 1 process" in table and "targets:" in table

"""handlers/ never imports the engine: what a handler sees comes in through handlers.context."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import handlers, handlers.context
handlers.load_all()
loaded = sorted(m for m in sys.modules if m == "engine" or m.startswith("engine."))
print(",".join(loaded))
"""


def test_importing_every_handler_loads_no_engine_module():
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_the_engine_offers_registered_expression_handlers():
    from engine.servicelog import expression_functions
    from handlers import REGISTRY

    functions = expression_functions()
    assert set(functions) == {name for name, spec in REGISTRY.items() if spec.in_expressions}
    assert functions["is_blank"]("  ") is True

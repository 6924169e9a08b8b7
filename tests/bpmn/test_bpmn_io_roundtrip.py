"""bpmn/ opens in the bpmn.io editors and saves back unchanged in meaning.

bpmn-js and dmn-js read and write through bpmn-moddle and dmn-moddle (installed from the npm
registry by ``python -m web.assets``). Every file must load without warnings, and what the
editors would save must deploy again with the same tasks, lanes, forms, rules and outcomes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.definitions import build, read_definition_files

ROOT = Path(__file__).resolve().parents[2]
MODDLE = ROOT / "web" / "static" / "vendor" / "moddle"


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[dict[str, list[str]], Path]:
    node = shutil.which("node")
    if node is None or not (MODDLE / "node_modules" / "bpmn-moddle").is_dir():
        if os.environ.get("CI"):
            pytest.fail("node and bpmn-moddle are required in CI (run: python -m web.assets)")
        pytest.skip("needs node and `python -m web.assets` (bpmn-moddle, dmn-moddle)")
    out = tmp_path_factory.mktemp("bpmnio")
    shutil.copytree(ROOT / "bpmn" / "forms", out / "forms")
    files = sorted(str(p) for p in (ROOT / "bpmn").glob("*.bpmn")) + sorted(
        str(p) for p in (ROOT / "bpmn").glob("*.dmn"))
    done = subprocess.run([node, str(Path(__file__).with_name("roundtrip.mjs")), str(MODDLE), str(out), *files],
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout), out


def test_every_file_loads_without_warnings(saved):
    warnings, _ = saved
    assert set(warnings) == {"case_lifecycle.bpmn", "dispatch.dmn", "intake_rules.dmn", "time_limits.dmn"}
    assert warnings == {name: [] for name in warnings}


def test_what_the_editors_save_deploys_with_the_same_meaning(saved):
    _, out = saved
    original = build(read_definition_files([ROOT / "bpmn"]))
    again = build(read_definition_files([out]))
    assert again.process_id == original.process_id
    assert {k: (v.lane, v.role, v.form.sha256) for k, v in again.user_tasks.items()} == \
           {k: (v.lane, v.role, v.form.sha256) for k, v in original.user_tasks.items()}
    assert again.outcomes == original.outcomes
    assert set(again.spec.task_specs) == set(original.spec.task_specs)
    for name, spec in original.spec.task_specs.items():
        other = again.spec.task_specs[name]
        assert [o.name for o in other.outputs] == [o.name for o in spec.outputs], name
        assert getattr(other, "extensions", None) == getattr(spec, "extensions", None), name
    saved_xml = (out / "case_lifecycle.bpmn").read_text(encoding="utf-8")
    assert "bpmndi:BPMNShape" in saved_xml and saved_xml.count("BPMNEdge") >= 80  # the diagram survives

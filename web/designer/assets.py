"""The bpmn.io editors for the designer pages, fetched from the npm registry (never committed).

dmn-js (DMN editor) and @bpmn-io/form-js (form editor) ship prebuilt UMD bundles; we copy those
bundles and their stylesheets and fonts into web/static/vendor/bpmnio/, served by Flask like
every other static file (no CDN). The BPMN modeler is bpmn-js with bpmn-js-properties-panel
and our own properties (web/static/designer/src/modeler.js: a user task's form, a lane's role,
SpiffWorkflow's moddle descriptor), bundled here with esbuild from the same npm install.
Fetching and copying is web.assets' :func:`~web.assets.fetch`; only the bundling lives here.
Called from ``python -m web.assets``; when npm is missing or offline the designer pages say so
instead of showing an editor.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from web.assets import VendorPackage, fetch

MODELER_SOURCE = Path(__file__).resolve().parent.parent / "static" / "designer" / "src" / "modeler.js"
MODELER = "citycase-modeler/modeler.js"
# package → (target folder, files and folders to copy, relative to the package)
COPY = {
    "bpmn-js": ("bpmn-js", ["dist/assets/bpmn-js.css",
                            "dist/assets/diagram-js.css", "dist/assets/bpmn-font", "LICENSE"]),
    "dmn-js": ("dmn-js", ["dist/dmn-modeler.production.min.js", "dist/assets/diagram-js.css",
                          "dist/assets/dmn-js-shared.css", "dist/assets/dmn-js-drd.css",
                          "dist/assets/dmn-js-decision-table.css", "dist/assets/dmn-js-decision-table-controls.css",
                          "dist/assets/dmn-js-literal-expression.css", "dist/assets/dmn-js-boxed-expression.css",
                          "dist/assets/dmn-js-boxed-expression-controls.css", "dist/assets/dmn-font", "LICENSE"]),
    "@bpmn-io/properties-panel": ("properties-panel", ["dist/assets/properties-panel.css", "LICENSE"]),
    "@bpmn-io/form-js": ("form-js", ["dist/form-editor.umd.js", "dist/assets/form-js.css",
                                     "dist/assets/form-js-editor.css", "dist/assets/properties-panel.css",
                                     "dist/assets/draggle.css", "LICENSE"]),
}


def bundle_modeler(npm_prefix: Path) -> bool:
    """esbuild our modeler source with bpmn-js and the properties panel into one script."""
    esbuild = npm_prefix / "node_modules" / ".bin" / "esbuild"
    out = BPMNIO.target / MODELER
    try:
        subprocess.run([str(esbuild), str(MODELER_SOURCE), "--bundle", "--minify", "--format=iife",
                        f"--outfile={out}", "--log-level=warning"], check=True, timeout=300,
                       env={**os.environ, "NODE_PATH": str(npm_prefix / "node_modules")})
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"WARNING: bundling the BPMN modeler failed ({exc})", file=sys.stderr)
        return False
    return out.is_file()


BPMNIO = VendorPackage(
    "bpmnio", ("bpmn-js@17", "dmn-js@16", "@bpmn-io/form-js@1", "bpmn-js-properties-panel@5",
               "@bpmn-io/properties-panel@3", "esbuild@0.24"),
    {f"node_modules/{package}/{rel}": f"{target}/{Path(rel).name}"
     for package, (target, paths) in COPY.items() for rel in paths},
    markers=(MODELER, "dmn-js/dmn-modeler.production.min.js", "form-js/form-editor.umd.js"),
    without="the designer pages will show no editor", timeout=600, build=bundle_modeler)
VENDOR = BPMNIO.target


def installed() -> bool:
    return BPMNIO.installed()


def install(force: bool = False) -> bool:
    return fetch(BPMNIO, force)

"""Build the web app's assets: compile translations, fetch the front-end packages (``python -m web.assets``).

Compiled catalogues (*.mo) and web/static/vendor/ are build artefacts and are never committed.
The app calls :func:`compile_translations` with ``only_missing=True`` at start-up, so a fresh
checkout works without running this module first. Front-end packages come from the npm registry,
each described as a :class:`VendorPackage` and fetched by the one :func:`fetch`; when npm is
missing or offline a warning is printed and the pages that need a package show a notice instead.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

WEB = Path(__file__).resolve().parent
TRANSLATIONS = WEB / "translations"
VENDOR = WEB / "static" / "vendor"
_lock = threading.Lock()


def compile_translations(only_missing: bool = False, quiet: bool = False) -> list[Path]:
    """Compile every web/translations/<locale>/LC_MESSAGES/messages.po into messages.mo."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written: list[Path] = []
    with _lock:
        for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if only_missing and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=po_path.parent.parent.name)
            # Write to a temporary file first: several processes may start at once.
            fd, tmp = tempfile.mkstemp(dir=mo_path.parent, prefix=".messages.", suffix=".mo")
            with open(fd, "wb") as out:
                write_mo(out, catalog, use_fuzzy=False)
            Path(tmp).replace(mo_path)
            written.append(mo_path)
            if not quiet:
                print(f"compiled {mo_path.relative_to(WEB.parent)}")
    return written


@dataclass(frozen=True)
class VendorPackage:
    """Front-end files taken from one ``npm install`` into web/static/vendor/<folder>/."""

    folder: str
    specs: tuple[str, ...]
    # path inside the npm install folder (node_modules/…) → path under vendor/<folder>/; a source
    # the release lacks (an optional LICENSE, a source map) is skipped, a folder is copied whole.
    files: Mapping[str, str]
    # paths under vendor/<folder>/ that must exist for the package to count as installed
    markers: tuple[str, ...]
    # what the user goes without when the package cannot be fetched (ends the warnings)
    without: str
    timeout: int = 300
    # a build step run on the npm install folder after the copy (the designer's esbuild bundle)
    build: Callable[[Path], bool] | None = None

    @property
    def target(self) -> Path:
        return VENDOR / self.folder

    def installed(self) -> bool:
        return all((self.target / marker).is_file() for marker in self.markers)


def fetch(package: VendorPackage, force: bool = False) -> bool:
    """Install ``package`` unless already there (or ``force``); False, with a warning, if impossible."""
    shown = package.target.relative_to(WEB.parent)
    specs = " ".join(package.specs)
    if package.installed() and not force:
        print(f"{package.folder} already in {shown}")
        return True
    npm = shutil.which("npm")
    if npm is None:
        print(f"WARNING: npm not found; {package.without} (install Node.js/npm and run: python -m web.assets)",
              file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory(prefix="citycase-npm-") as tmp:
        # Named after the folder: npm writes the folder's name into package-lock.json.
        prefix = Path(tmp) / package.folder
        try:
            subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(prefix),
                            *package.specs], check=True, timeout=package.timeout, stdout=subprocess.DEVNULL)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            print(f"WARNING: npm install {specs} failed ({exc}); {package.without}", file=sys.stderr)
            return False
        _copy(prefix, package)
        if package.build is not None and not package.build(prefix):
            return False
    if not package.installed():
        print(f"WARNING: {specs} lacks {', '.join(package.markers)}; {package.without}", file=sys.stderr)
        return False
    print(f"installed {specs} into {shown}")
    return True


def _copy(prefix: Path, package: VendorPackage) -> None:
    for rel_src, rel_dst in package.files.items():
        src, dst = prefix / rel_src, package.target / rel_dst
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            # symlinks=True keeps node_modules/.bin links as links, as npm made them.
            shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
        elif src.is_file():
            shutil.copyfile(src, dst)


def _from(package: str, paths: Mapping[str, str]) -> dict[str, str]:
    """``{path in the npm package: destination}`` → ``{path in the install folder: destination}``."""
    return {f"node_modules/{package}/{src}": dst for src, dst in paths.items()}


LEAFLET = VendorPackage(
    "leaflet", ("leaflet@1.9",),
    _from("leaflet", {"dist/leaflet.js": "leaflet.js", "dist/leaflet.css": "leaflet.css",
                      "dist/leaflet.js.map": "leaflet.js.map", "dist/images": "images", "LICENSE": "LICENSE"}),
    markers=("leaflet.js", "leaflet.css"), without="maps will show a notice instead of Leaflet")
# bpmn-moddle and dmn-moddle — the readers/writers inside bpmn-js and dmn-js — kept as an npm tree
# so tests can check that bpmn/ opens and saves in the bpmn.io editors without losing anything.
MODDLE = VendorPackage(
    "moddle", ("bpmn-moddle@10", "dmn-moddle@12"),
    {"node_modules": "node_modules", "package.json": "package.json", "package-lock.json": "package-lock.json"},
    markers=("node_modules/bpmn-moddle/package.json", "node_modules/dmn-moddle/package.json"),
    without="the bpmn.io round-trip test will be skipped")
# ECharts (the usual charts of Chinese government dashboards): without it /stats and /command show
# their tables and numbers and no charts.
ECHARTS = VendorPackage(
    "echarts", ("echarts@6",),
    _from("echarts", {"dist/echarts.min.js": "echarts.min.js", "LICENSE": "LICENSE"}),
    markers=("echarts.min.js",), without="the evaluation pages will show no charts")
# axe-core (the accessibility rules engine): the browser tests inject it into each page they walk
# and fail on any WCAG 2.1 AA violation. Pages never load it.
AXE = VendorPackage(
    "axe-core", ("axe-core@4",),
    _from("axe-core", {"axe.min.js": "axe.min.js", "LICENSE": "LICENSE"}),
    markers=("axe.min.js",), without="the accessibility test will be skipped")
# The navigated viewer bundle (viewing with pan and zoom, no modeling) and its two stylesheets: the
# audit replay page draws with it.
BPMN_JS = VendorPackage(
    "bpmn-js", ("bpmn-js@17",),
    _from("bpmn-js", {"dist/bpmn-navigated-viewer.production.min.js": "bpmn-navigated-viewer.production.min.js",
                      "dist/assets/diagram-js.css": "diagram-js.css", "dist/assets/bpmn-js.css": "bpmn-js.css",
                      "LICENSE": "LICENSE"}),
    markers=("bpmn-navigated-viewer.production.min.js", "diagram-js.css", "bpmn-js.css"),
    without="the audit replay page shows the step list without a diagram")
PACKAGES = (LEAFLET, MODDLE, ECHARTS, AXE, BPMN_JS)


# The pages ask these to decide between the real widget and a notice.
def leaflet_installed() -> bool:
    return LEAFLET.installed()


def echarts_installed() -> bool:
    return ECHARTS.installed()


def axe_installed() -> bool:
    return AXE.installed()


def bpmn_js_installed() -> bool:
    return BPMN_JS.installed()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    compile_translations()
    for package in PACKAGES:
        fetch(package, force="--force" in args)
    from web.designer.assets import install as install_bpmnio  # the designer pages' editors

    install_bpmnio(force="--force" in args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the web app's assets: compile translations, install Leaflet and the bpmn-js viewer (``python -m web.assets``).

Compiled catalogues (*.mo) and web/static/vendor/ are build artefacts and are never committed.
The app calls :func:`compile_translations` with ``only_missing=True`` at start-up, so a fresh
checkout works without running this module first. Leaflet comes from the npm registry; when npm
is missing or offline a warning is printed and the map pages show a notice instead of a map.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

WEB = Path(__file__).resolve().parent
TRANSLATIONS = WEB / "translations"
VENDOR = WEB / "static" / "vendor"
LEAFLET_DIR = VENDOR / "leaflet"
LEAFLET_SPEC = "leaflet@1.9"
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


def leaflet_installed() -> bool:
    return (LEAFLET_DIR / "leaflet.js").is_file() and (LEAFLET_DIR / "leaflet.css").is_file()


def install_leaflet(force: bool = False) -> bool:
    """Fetch Leaflet with npm into web/static/vendor/leaflet/; False (with a warning) if impossible."""
    if leaflet_installed() and not force:
        print(f"leaflet already in {LEAFLET_DIR.relative_to(WEB.parent)}")
        return True
    npm = shutil.which("npm")
    if npm is None:
        print("WARNING: npm not found; maps will show a notice instead of Leaflet "
              "(install Node.js/npm and run: python -m web.assets)", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory(prefix="citycase-npm-") as tmp:
        try:
            subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", tmp, LEAFLET_SPEC],
                           check=True, timeout=300, stdout=subprocess.DEVNULL)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            print(f"WARNING: npm install {LEAFLET_SPEC} failed ({exc}); maps will show a notice",
                  file=sys.stderr)
            return False
        dist = Path(tmp) / "node_modules" / "leaflet" / "dist"
        if not (dist / "leaflet.js").is_file():
            print(f"WARNING: {LEAFLET_SPEC} has no dist/leaflet.js; maps will show a notice", file=sys.stderr)
            return False
        LEAFLET_DIR.mkdir(parents=True, exist_ok=True)
        for name in ("leaflet.js", "leaflet.css", "leaflet.js.map"):
            if (dist / name).is_file():
                shutil.copyfile(dist / name, LEAFLET_DIR / name)
        if (dist / "images").is_dir():
            shutil.copytree(dist / "images", LEAFLET_DIR / "images", dirs_exist_ok=True)
        license_file = Path(tmp) / "node_modules" / "leaflet" / "LICENSE"
        if license_file.is_file():
            shutil.copyfile(license_file, LEAFLET_DIR / "LICENSE")
    print(f"installed {LEAFLET_SPEC} into {LEAFLET_DIR.relative_to(WEB.parent)}")
    return True


MODDLE_DIR = WEB / "static" / "vendor" / "moddle"
MODDLE_SPECS = ("bpmn-moddle@10", "dmn-moddle@12")


def moddle_installed() -> bool:
    return all((MODDLE_DIR / "node_modules" / name.rsplit("@", 1)[0] / "package.json").is_file()
               for name in MODDLE_SPECS)


def install_moddle(force: bool = False) -> bool:
    """bpmn-moddle and dmn-moddle — the readers/writers inside bpmn-js and dmn-js — so tests can
    check that bpmn/ opens and saves in the bpmn.io editors without losing anything."""
    if moddle_installed() and not force:
        return True
    npm = shutil.which("npm")
    if npm is None:
        print("WARNING: npm not found; the bpmn.io round-trip test will be skipped", file=sys.stderr)
        return False
    MODDLE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(MODDLE_DIR),
                        *MODDLE_SPECS], check=True, timeout=300, stdout=subprocess.DEVNULL)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"WARNING: npm install {' '.join(MODDLE_SPECS)} failed ({exc})", file=sys.stderr)
        return False
    print(f"installed {' '.join(MODDLE_SPECS)} into {MODDLE_DIR.relative_to(WEB.parent)}")
    return True


ECHARTS_DIR = VENDOR / "echarts"
ECHARTS_SPEC = "echarts@6"


def echarts_installed() -> bool:
    return (ECHARTS_DIR / "echarts.min.js").is_file()


def install_echarts(force: bool = False) -> bool:
    """ECharts (the usual charts of Chinese government dashboards) into web/static/vendor/echarts/;
    without it /stats and /command show their tables and numbers and no charts."""
    if echarts_installed() and not force:
        return True
    npm = shutil.which("npm")
    if npm is None:
        print("WARNING: npm not found; the evaluation pages will show no charts", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory(prefix="citycase-npm-") as tmp:
        try:
            subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", tmp, ECHARTS_SPEC],
                           check=True, timeout=300, stdout=subprocess.DEVNULL)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            print(f"WARNING: npm install {ECHARTS_SPEC} failed ({exc}); no charts", file=sys.stderr)
            return False
        package = Path(tmp) / "node_modules" / "echarts"
        if not (package / "dist" / "echarts.min.js").is_file():
            print(f"WARNING: {ECHARTS_SPEC} has no dist/echarts.min.js; no charts", file=sys.stderr)
            return False
        ECHARTS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package / "dist" / "echarts.min.js", ECHARTS_DIR / "echarts.min.js")
        if (package / "LICENSE").is_file():
            shutil.copyfile(package / "LICENSE", ECHARTS_DIR / "LICENSE")
    print(f"installed {ECHARTS_SPEC} into {ECHARTS_DIR.relative_to(WEB.parent)}")
    return True


AXE_DIR = WEB / "static" / "vendor" / "axe-core"
AXE_SPEC = "axe-core@4"


def axe_installed() -> bool:
    return (AXE_DIR / "axe.min.js").is_file()


def install_axe(force: bool = False) -> bool:
    """axe-core (the accessibility rules engine) into web/static/vendor/axe-core/: the browser tests
    inject it into each page they walk and fail on any WCAG 2.1 AA violation. Pages never load it."""
    if axe_installed() and not force:
        return True
    npm = shutil.which("npm")
    if npm is None:
        print("WARNING: npm not found; the accessibility test will be skipped", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory(prefix="citycase-npm-") as tmp:
        try:
            subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", tmp, AXE_SPEC],
                           check=True, timeout=300, stdout=subprocess.DEVNULL)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            print(f"WARNING: npm install {AXE_SPEC} failed ({exc}); no accessibility test", file=sys.stderr)
            return False
        package = Path(tmp) / "node_modules" / "axe-core"
        if not (package / "axe.min.js").is_file():
            print(f"WARNING: {AXE_SPEC} has no axe.min.js", file=sys.stderr)
            return False
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package / "axe.min.js", AXE_DIR / "axe.min.js")
        if (package / "LICENSE").is_file():
            shutil.copyfile(package / "LICENSE", AXE_DIR / "LICENSE")
    print(f"installed {AXE_SPEC} into {AXE_DIR.relative_to(WEB.parent)}")
    return True


BPMN_JS_DIR = VENDOR / "bpmn-js"
BPMN_JS_SPEC = "bpmn-js@17"
# The navigated viewer bundle (viewing with pan and zoom, no modeling) and its two stylesheets: the
# audit replay page draws with it.
BPMN_JS_FILES = {"dist/bpmn-navigated-viewer.production.min.js": "bpmn-navigated-viewer.production.min.js",
                 "dist/assets/diagram-js.css": "diagram-js.css", "dist/assets/bpmn-js.css": "bpmn-js.css",
                 "LICENSE": "LICENSE"}


def bpmn_js_installed() -> bool:
    return all((BPMN_JS_DIR / name).is_file() for name in BPMN_JS_FILES.values() if name != "LICENSE")


def install_bpmn_js(force: bool = False) -> bool:
    """The bpmn-js viewer from the npm registry into web/static/vendor/bpmn-js/ (served locally, no CDN)."""
    if bpmn_js_installed() and not force:
        print(f"bpmn-js already in {BPMN_JS_DIR.relative_to(WEB.parent)}")
        return True
    npm = shutil.which("npm")
    if npm is None:
        print("WARNING: npm not found; the audit replay page shows the step list without a diagram",
              file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory(prefix="citycase-npm-") as tmp:
        try:
            subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", tmp, BPMN_JS_SPEC],
                           check=True, timeout=300, stdout=subprocess.DEVNULL)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            print(f"WARNING: npm install {BPMN_JS_SPEC} failed ({exc}); the replay page has no diagram",
                  file=sys.stderr)
            return False
        package = Path(tmp) / "node_modules" / "bpmn-js"
        BPMN_JS_DIR.mkdir(parents=True, exist_ok=True)
        for src, dst in BPMN_JS_FILES.items():
            if (package / src).is_file():
                shutil.copyfile(package / src, BPMN_JS_DIR / dst)
    if not bpmn_js_installed():
        print(f"WARNING: {BPMN_JS_SPEC} lacks the viewer bundle; the replay page has no diagram", file=sys.stderr)
        return False
    print(f"installed {BPMN_JS_SPEC} into {BPMN_JS_DIR.relative_to(WEB.parent)}")
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    compile_translations()
    install_leaflet(force="--force" in args)
    install_moddle(force="--force" in args)
    install_echarts(force="--force" in args)
    install_axe(force="--force" in args)
    install_bpmn_js(force="--force" in args)
    from web.designer.assets import install as install_bpmnio  # the designer pages' editors

    install_bpmnio(force="--force" in args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

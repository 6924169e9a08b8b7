"""Deploying and loading process definitions (BPMN + DMN + form files).

A deployment is the set of files of one folder, stored once by the sha256 of its content.
XML is parsed by our own hardened lxml parser (no DTD, no entities, no network) and every
expression, script and service call in it is checked before SpiffWorkflow sees it. Parsed
specs are cached in memory by hash: a command never re-parses.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from cachetools import LRUCache
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import DefinitionError, NotFound
from engine.expressions import ExpressionRefused, check_expression, check_script
from engine.forms import FormError, FormSpec, load_form_text
from engine.model import Role
from engine.models import DefinitionVersion

# BPMN lane name -> the role whose users work its tasks.
ROLES_BY_LANE: dict[str, Role] = {
    "supervisor": Role.SUPERVISOR, "acceptor": Role.ACCEPTOR, "shift_leader": Role.SHIFT_LEADER,
    "dispatcher": Role.DISPATCHER, "department": Role.HANDLER, "leader": Role.LEADER,
}
# Lanes whose tasks belong to the case's responsible department (the engine checks it).
DEPARTMENT_LANES = frozenset({"department", "leader"})
MAX_FILE_BYTES = 2 * 1024 * 1024
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


@dataclass(frozen=True)
class UserTaskInfo:
    spec_id: str
    name: str
    lane: str
    role: str
    form: FormSpec


@dataclass
class LoadedDefinition:
    id: int
    sha256: str
    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    user_tasks: dict[str, UserTaskInfo]
    outcomes: dict[str, str]  # end event id -> case outcome
    files: dict[str, str] = field(repr=False, default_factory=dict)
    # user task id -> the case outcome while only such tasks are open (回访 after 结案: the case
    # is closed although its workflow still waits for the callback)
    waiting_outcomes: dict[str, str] = field(default_factory=dict)


# --- reading and checking files -------------------------------------------------------------

def read_definition_files(paths: list[str | Path]) -> dict[str, str]:
    """Collect *.bpmn, *.dmn and forms/*.form from files or folders, keyed by relative name."""
    files: dict[str, str] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = sorted([*path.glob("*.bpmn"), *path.glob("*.dmn"), *path.glob("forms/*.form")])
            base = path
        elif path.is_file():
            candidates, base = [path], path.parent
        else:
            raise DefinitionError(f"{path}: no such file or folder")
        for file in candidates:
            if file.stat().st_size > MAX_FILE_BYTES:
                raise DefinitionError(f"{file}: larger than {MAX_FILE_BYTES} bytes")
            files[file.relative_to(base).as_posix()] = file.read_text(encoding="utf-8")
    if not any(name.endswith(".bpmn") for name in files):
        raise DefinitionError("no .bpmn file given; pass the bpmn/ folder or .bpmn files")
    return files


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_comments=False)


def safe_xml(text: str, filename: str) -> etree._Element:
    """Parse XML, refusing any DOCTYPE (and with it every external or internal entity)."""
    head = text[:4096].upper()
    if "<!DOCTYPE" in head or "<!ENTITY" in text.upper():
        raise DefinitionError(f"{filename}: DOCTYPE and entity declarations are not allowed")
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DefinitionError(f"{filename}: not well-formed XML ({exc})") from None
    if root.getroottree().docinfo.doctype:
        raise DefinitionError(f"{filename}: DOCTYPE is not allowed")
    return root


def _element_id(el: etree._Element) -> str:
    node: etree._Element | None = el
    while node is not None:
        element_id = node.get("id")
        if element_id:
            return element_id
        node = node.getparent()
    return "?"


_EXPRESSION_TAGS = {"conditionExpression", "timeDate", "timeDuration", "timeCycle", "loopCardinality",
                    "completionCondition", "messagePayload", "payloadExpression"}
_SCRIPT_TAGS = {"script", "preScript", "postScript"}


def check_bpmn_expressions(root: etree._Element, filename: str) -> None:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = etree.QName(el).localname
        text, value = el.text or "", el.get("value") or ""
        try:
            if tag in _EXPRESSION_TAGS and text.strip():
                check_expression(text)
            elif tag in _SCRIPT_TAGS and text.strip():
                check_script(text)
            elif tag == "parameter" and value:
                check_expression(value)
        except ExpressionRefused as exc:
            raise DefinitionError(f"{filename}: element {_element_id(el)!r} ({tag}) refused: {exc}") from None


def check_dmn_cell(column: str, text: str) -> None:
    """Check one DMN cell's text; ``column`` is the tag holding it (inputExpression, inputEntry…)."""
    text = text.strip()
    if not text or text == "-":
        return
    if column in ("inputExpression", "outputEntry"):
        check_expression(text)
    elif column == "inputEntry":
        text = text.replace("?", "dmninputexpr")
        try:
            check_expression(text)
        except ExpressionRefused as first:
            if "not a valid expression" not in str(first):
                raise
            check_expression(f"dmninputexpr {text}")


def check_dmn_expressions(root: etree._Element, filename: str) -> None:
    for el in root.iter():
        owner = el.getparent()
        if not isinstance(el.tag, str) or etree.QName(el).localname != "text" or owner is None:
            continue
        try:
            check_dmn_cell(etree.QName(owner).localname, el.text or "")
        except ExpressionRefused as exc:
            raise DefinitionError(f"{filename}: DMN cell {_element_id(el)!r} refused: {exc}") from None


# --- building specs ---------------------------------------------------------------------------

def content_hash(files: dict[str, str]) -> str:
    return hashlib.sha256(orjson.dumps(files, option=orjson.OPT_SORT_KEYS)).hexdigest()


def build(files: dict[str, str], definition_id: int = 0) -> LoadedDefinition:
    """Check and parse a file set; raises DefinitionError naming the file and element."""
    from handlers import REGISTRY, load_all

    load_all()
    parser = SpiffBpmnParser(validator=VALIDATOR)
    forms = _parse_forms(files)
    for name, text in files.items():
        try:
            if name.endswith(".bpmn"):
                root = safe_xml(text, name)
                check_bpmn_expressions(root, name)
                parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
            elif name.endswith(".dmn"):
                root = safe_xml(text, name)
                check_dmn_expressions(root, name)
                parser.add_dmn_xml(root, filename=name)
        except ValidationException as exc:
            raise DefinitionError(f"{name}: {exc}") from None
    process_ids = parser.get_process_ids()
    if len(process_ids) != 1:
        raise DefinitionError(f"expected exactly one executable process, found {process_ids or 'none'}")
    process_id = process_ids[0]
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DefinitionError(str(exc)) from None
    except Exception as exc:  # SpiffWorkflow raises plain exceptions for some structural problems
        raise DefinitionError(f"{process_id}: {exc}") from None

    user_tasks: dict[str, UserTaskInfo] = {}
    outcomes: dict[str, str] = {}
    waiting: dict[str, str] = {}
    all_specs = [spec, *subprocess_specs.values()]
    for proc in all_specs:
        _arm_event_subprocesses(proc)
    for proc in all_specs:
        for ts in proc.task_specs.values():
            props = (getattr(ts, "extensions", None) or {}).get("properties", {})
            if isinstance(ts, UserTask):
                lane = ts.lane or ""
                if lane not in ROLES_BY_LANE:
                    raise DefinitionError(f"user task {ts.bpmn_id!r} is in lane {lane!r}; lanes must be one of "
                                          f"{sorted(ROLES_BY_LANE)}")
                form_key = props.get("formKey")
                if not form_key or form_key not in forms:
                    raise DefinitionError(f"user task {ts.bpmn_id!r} needs a spiffworkflow property formKey naming "
                                          f"a deployed form file (got {form_key!r})")
                user_tasks[ts.bpmn_id] = UserTaskInfo(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, lane,
                                                      ROLES_BY_LANE[lane], forms[form_key])
                if props.get("outcome"):
                    waiting[ts.bpmn_id] = props["outcome"]
            elif isinstance(ts, ServiceTask):
                if ts.operation_name not in REGISTRY:
                    raise DefinitionError(f"service task {ts.bpmn_id!r} calls {ts.operation_name!r}, which is not "
                                          f"a registered handler; known: {sorted(REGISTRY)}")
            elif isinstance(ts, EndEvent) and props.get("outcome"):
                outcomes[ts.bpmn_id] = props["outcome"]
    if not user_tasks:
        raise DefinitionError(f"{process_id}: no user tasks")
    return LoadedDefinition(definition_id, content_hash(files), process_id, spec, subprocess_specs,
                            user_tasks, outcomes, files, waiting)


def _parse_forms(files: dict[str, str]) -> dict[str, FormSpec]:
    forms: dict[str, FormSpec] = {}
    for name, text in files.items():
        if name.endswith(".form"):
            try:
                forms[name] = load_form_text(text, name)
            except FormError as exc:
                raise DefinitionError(f"{name}: {exc}") from None
    return forms


def _arm_event_subprocesses(proc: Any) -> None:
    """Connect message-triggered event subprocesses to the start up front.

    SpiffWorkflow connects them lazily, inside ``BpmnStartTask.trigger_wf``, by mutating the
    spec the first time any case triggers one; every case created afterwards then differs from
    the ones before. Specs are shared between cases (and with replay), so they must never
    change at run time: we make that connection once, at build time.
    """
    start = getattr(proc, "start", None)
    if start is None:
        return
    for name in list(getattr(start, "trigger_specs", []) or []):
        task_spec = proc.task_specs.get(name)
        if task_spec is not None and start not in task_spec.inputs:
            start.connect(task_spec)
            task_spec.connect(proc.end)


# --- storing and loading ----------------------------------------------------------------------

# Parsed definitions by content hash. A handful are live at once (the deployed versions that
# open cases still run on); one evicted is only parsed again. cachetools caches are not
# thread-safe: every access holds _lock.
_cache: LRUCache[str, LoadedDefinition] = LRUCache(maxsize=32)
_lock = threading.Lock()


def deploy(session: Session, files: dict[str, str], deployed_by: str, now: datetime) -> tuple[DefinitionVersion, bool]:
    """Store a checked file set and make it the active version at once — for set-up and the demo
    (``citycase deploy``). Designers go through engine.designer.lifecycle (propose, approve by
    another designer); this path records the activation as done by the system. Never commits."""
    from engine.designer.lifecycle import deploy_as_system

    return deploy_as_system(session, files, deployed_by, now)


def store(session: Session, files: dict[str, str], proposed_by: str, now: datetime) -> tuple[DefinitionVersion, bool]:
    """Store a checked file set as a new (proposed) version; returns (version, created). Never commits."""
    loaded = build(files)
    existing = session.scalar(select(DefinitionVersion).where(DefinitionVersion.sha256 == loaded.sha256))
    if existing is not None:
        return existing, False
    last = session.scalar(select(func.max(DefinitionVersion.version))
                          .where(DefinitionVersion.process_id == loaded.process_id)) or 0
    row = DefinitionVersion(process_id=loaded.process_id, version=last + 1, sha256=loaded.sha256,
                            files=orjson.dumps(files, option=orjson.OPT_SORT_KEYS).decode(),
                            deployed_by=proposed_by, deployed_at=now, state="proposed")
    session.add(row)
    session.flush()
    loaded.id = row.id
    with _lock:
        _cache[loaded.sha256] = loaded
    return row, True


def load(session: Session, definition_id: int, sha256: str | None = None) -> LoadedDefinition:
    """The parsed definition of a version; pass its sha256 (joined in the caller's query) to skip a read."""
    if sha256 is not None:
        with _lock:
            cached = _cache.get(sha256)
        if cached is not None and cached.id == definition_id:
            return cached
    row = session.get(DefinitionVersion, definition_id)
    if row is None:
        raise NotFound(f"definition version {definition_id} does not exist")
    with _lock:
        loaded = _cache.get(row.sha256)
        if loaded is None or loaded.id != row.id:
            loaded = build(orjson.loads(row.files), row.id)
            _cache[row.sha256] = loaded
    return loaded


def latest(session: Session, process_id: str = "case_lifecycle") -> LoadedDefinition:
    """The ACTIVE version of a process: the one new cases start on (proposals wait for approval)."""
    row = session.execute(select(DefinitionVersion.id, DefinitionVersion.sha256)
                          .where(DefinitionVersion.process_id == process_id, DefinitionVersion.state == "active")
                          .order_by(DefinitionVersion.version.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"no definition of {process_id!r} is active; run: citycase deploy bpmn/")
    return load(session, row.id, row.sha256)


def clear_cache() -> None:
    with _lock:
        _cache.clear()

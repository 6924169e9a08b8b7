"""The per-kind intake rules: the DMN table ``intake_rules.dmn``, evaluated like dispatch.dmn.

The table is read from the latest deployed definition's files when it was deployed with them
(so a designer edits and deploys it like the other tables), else from ``bpmn/intake_rules.dmn``.
It is parsed with the engine's safe XML parser and expression check
(``definitions.safe_xml``/``check_dmn_expressions``) and evaluated by SpiffWorkflow's DMN
engine with the engine's restricted script engine (``services.SCRIPT_ENGINE``): cells never run
unrestricted Python. Parsed tables are cached by the text's hash.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cachetools import LRUCache
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy.orm import Session

from engine import definitions
from engine.devices.models import DeviceKind
from engine.errors import DefinitionError, NotFound
from engine.model import Urgency
from engine.services import SCRIPT_ENGINE

RULES_FILE = "intake_rules.dmn"
DECISION_ID = "intake_rules"
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "bpmn" / RULES_FILE

_cache: LRUCache[str, DMNEngine] = LRUCache(maxsize=8)
_texts: dict[str, tuple[float, str]] = {}  # database url -> (monotonic time read, table text)
# Decisions by (table hash, kind, class): most observations are the same few questions.
_decided: LRUCache[tuple[str, str, str], Rule | None] = LRUCache(maxsize=4096)
_lock = threading.Lock()  # cachetools caches are not thread-safe; the web server is threaded


@dataclass(frozen=True)
class Rule:
    """What the table says about one kind (and, for imaging kinds, one recognised class)."""

    threshold: float  # a reading is over when value >= threshold
    persistence: int  # readings over in a row that make an alarm
    window_minutes: int  # …all within this many minutes (0: no window)
    min_confidence: float  # a recognised class counts from this confidence on
    class_code: str
    urgency: Urgency
    silent_minutes: int  # no observation for this long: the device is silent
    maintenance_class: str


def parse_table(text: str) -> DMNEngine:
    """Check and parse the table (DefinitionError naming the cell when it is refused)."""
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    root = definitions.safe_xml(text, RULES_FILE)
    definitions.check_dmn_expressions(root, RULES_FILE)
    parser = SpiffBpmnParser()
    parser.add_dmn_xml(root, filename=RULES_FILE)
    engine = parser.get_engine(DECISION_ID, None)
    with _lock:
        _cache[key] = engine
    return engine


def table_text(session: Session | None, max_age: float = 0.0) -> str:
    """The deployed table when there is one, else the file in bpmn/. With ``max_age`` (seconds) a
    table read that recently for the same database is reused: the intake's hot path then skips the
    definition query, and a newly deployed table applies within ``max_age`` seconds."""
    db = str(session.get_bind().engine.url) if session is not None else ""
    now = time.monotonic()
    with _lock:
        read = _texts.get(db)
    if read is not None and now - read[0] <= max_age:
        return read[1]
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    if session is not None:
        try:
            text = definitions.latest(session).files.get(RULES_FILE, text)
        except NotFound:  # nothing deployed yet: the file on disk is the rule
            pass
    with _lock:
        _texts[db] = (now, text)
    return text


def decide(engine: DMNEngine, kind: DeviceKind, class_code: str | None) -> Rule | None:
    """The first matching rule for ``kind`` (and ``class_code``), or None when no row matches."""
    # SpiffWorkflow's DMN engine reads task.data and task.workflow.script_engine only.
    task = SimpleNamespace(data={"kind": str(kind), "class_code": class_code or ""},
                           workflow=SimpleNamespace(script_engine=SCRIPT_ENGINE))
    try:
        out: dict[str, Any] = engine.result(task)
    except Exception as exc:  # noqa: BLE001  a cell that fails to evaluate is a table error
        raise DefinitionError(f"{RULES_FILE}: {exc}") from None
    if not out:
        return None
    try:
        return Rule(float(out["threshold"]), max(1, int(out["persistence"])), int(out["window_minutes"]),
                    float(out["min_confidence"]), str(out["class_code"]), Urgency(out["urgency"]),
                    int(out["silent_minutes"]), str(out["maintenance_class"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise DefinitionError(f"{RULES_FILE}: a rule's outputs are incomplete or of the wrong type: {exc}") from None


def rule_for(session: Session | None, kind: DeviceKind, class_code: str | None = None,
             max_age: float = 0.0) -> Rule | None:
    text = table_text(session, max_age)
    key = (hashlib.sha256(text.encode("utf-8")).hexdigest(), str(kind), class_code or "")
    with _lock:
        if key in _decided:
            return _decided[key]
    rule = decide(parse_table(text), kind, class_code)
    with _lock:
        _decided[key] = rule
    return rule

"""Every problem of a proposed file set, each pointing at its file and element.

``definitions.build`` stops at the first problem (it guards deployment); a designer needs the
whole list, each with the element id the modeler can select. The checks: file names and
sizes, well-formed XML without DOCTYPE/entities, the BPMN XML schema (SpiffWorkflow's XSD),
safe expressions (the same whitelist the engine evaluates with), every user task in a known
lane with a deployed form, forms well typed, DMN outputs well formed, dispatch.dmn's
departments known, positive time limits, no unreachable BPMN element, and finally a full
SpiffWorkflow parse. None of it runs anything from the files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import definitions
from engine.errors import DefinitionError
from engine.expressions import ExpressionRefused, check_expression, check_script
from engine.forms import FormError, load_form_text

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_NS = {"bpmn": BPMN_NS, "spiffworkflow": definitions.SPIFF_NS}
_SAFE_NAME = re.compile(r"^(forms/)?[A-Za-z0-9_.\-]+\.(bpmn|dmn|form)$")
_ESCAPE_HINTS = ("not allowed", "not a registered handler", "only named functions")


class ProblemKind(StrEnum):
    FILE = "file"  # name, size, encoding
    MALICIOUS = "malicious"  # DOCTYPE/entities, sandbox escapes: refused outright
    XML = "xml"  # not well-formed
    SCHEMA = "schema"  # BPMN XSD
    EXPRESSION = "expression"  # not a valid expression
    LANE = "lane"
    FORM = "form"
    SERVICE = "service"
    DMN = "dmn"
    DEPARTMENT = "department"
    TIME_LIMIT = "time_limit"
    UNREACHABLE = "unreachable"
    PARSE = "parse"  # SpiffWorkflow refused the process


class ProblemCode(StrEnum):
    """What exactly is wrong; with the problem's parameters, the pages render it through gettext
    (web/designer/problems.py) and the CLI in English (``Problem.message``)."""

    NO_BPMN = "no_bpmn"
    BAD_NAME = "bad_name"
    TOO_LARGE = "too_large"  # limit
    DOCTYPE = "doctype"  # detail
    NOT_XML = "not_xml"  # detail
    SCHEMA = "schema"  # line, detail
    UNSAFE = "unsafe"  # detail
    BAD_EXPRESSION = "bad_expression"  # detail
    UNKNOWN_LANE = "unknown_lane"  # lane, lanes
    NO_FORM = "no_form"  # key
    BAD_FORM = "bad_form"  # detail
    UNKNOWN_HANDLER = "unknown_handler"  # operator
    OUTPUT_NAME = "output_name"
    RULE_SHAPE = "rule_shape"  # inputs, outputs, table_inputs, table_outputs
    OUTPUT_TYPE = "output_type"  # value, type, output
    NON_POSITIVE = "non_positive"  # output, value
    BAD_UNIT = "bad_unit"  # output, value, units
    UNKNOWN_DEPARTMENT = "unknown_department"  # department
    UNKNOWN_CLASS = "unknown_class"  # code
    UNREACHABLE = "unreachable"
    PARSE = "parse"  # detail


_ENGLISH = {
    ProblemCode.NO_BPMN: "no .bpmn file in the set",
    ProblemCode.BAD_NAME: "file names are name.bpmn, name.dmn or forms/name.form",
    ProblemCode.TOO_LARGE: "larger than {limit} bytes",
    ProblemCode.DOCTYPE: "{detail}",
    ProblemCode.NOT_XML: "{detail}",
    ProblemCode.SCHEMA: "line {line}: {detail}",
    ProblemCode.UNSAFE: "{detail}",
    ProblemCode.BAD_EXPRESSION: "{detail}",
    ProblemCode.UNKNOWN_LANE: "user task is in lane '{lane}'; lanes must be one of {lanes}",
    ProblemCode.NO_FORM: "needs a formKey property naming a form file of the set (got '{key}')",
    ProblemCode.BAD_FORM: "{detail}",
    ProblemCode.UNKNOWN_HANDLER: "calls '{operator}', which is not a registered handler",
    ProblemCode.OUTPUT_NAME: "an output needs a name",
    ProblemCode.RULE_SHAPE: "has {inputs} input and {outputs} output cells; the table has {table_inputs} inputs "
                            "and {table_outputs} outputs",
    ProblemCode.OUTPUT_TYPE: "{value} is not a {type} (output '{output}')",
    ProblemCode.NON_POSITIVE: "{output} must be positive (got {value})",
    ProblemCode.BAD_UNIT: "{output} must be one of {units} (got '{value}')",
    ProblemCode.UNKNOWN_DEPARTMENT: "department '{department}' does not exist",
    ProblemCode.UNKNOWN_CLASS: "class '{code}' does not exist",
    ProblemCode.UNREACHABLE: "no path leads here from a start event",
    ProblemCode.PARSE: "{detail}",
}


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    file: str
    element_id: str | None
    code: ProblemCode
    params: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """In English (CLI, logs); the pages translate ``code`` with ``params``."""
        return _ENGLISH[self.code].format(**self.params)

    def text(self) -> str:
        where = f"{self.file}" + (f" #{self.element_id}" if self.element_id else "")
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "file": self.file, "element_id": self.element_id, "code": str(self.code),
                "params": self.params, "message": self.message}


def _element_id(el: etree._Element) -> str | None:
    node: etree._Element | None = el
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None


def _expression_problem(exc: ExpressionRefused, file: str, el: etree._Element) -> Problem:
    text = str(exc)
    if any(h in text for h in _ESCAPE_HINTS):
        return Problem(ProblemKind.MALICIOUS, file, _element_id(el), ProblemCode.UNSAFE, {"detail": text})
    return Problem(ProblemKind.EXPRESSION, file, _element_id(el), ProblemCode.BAD_EXPRESSION, {"detail": text})


def _parse_xml(name: str, text: str, out: list[Problem]) -> etree._Element | None:
    try:
        return definitions.safe_xml(text, name)
    except DefinitionError as exc:
        message = str(exc).removeprefix(f"{name}: ")
        if "DOCTYPE" in message:
            out.append(Problem(ProblemKind.MALICIOUS, name, None, ProblemCode.DOCTYPE, {"detail": message}))
        else:
            out.append(Problem(ProblemKind.XML, name, None, ProblemCode.NOT_XML, {"detail": message}))
        return None


def _check_schema(name: str, root: etree._Element, out: list[Problem]) -> None:
    from SpiffWorkflow.spiff.parser.process import VALIDATOR

    copy = etree.fromstring(etree.tostring(root))  # preprocess renames tags in place
    VALIDATOR.preprocess(copy)
    schema = VALIDATOR.validator
    if schema.validate(copy):
        return
    by_line = {el.sourceline: el for el in copy.iter() if isinstance(el.tag, str)}
    for error in list(schema.error_log)[:20]:
        el = by_line.get(error.line)
        out.append(Problem(ProblemKind.SCHEMA, name, _element_id(el) if el is not None else None, ProblemCode.SCHEMA,
                           {"line": str(error.line), "detail": error.message}))


def _check_bpmn_expressions(name: str, root: etree._Element, out: list[Problem]) -> None:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = etree.QName(el).localname
        text, value = (el.text or "").strip(), el.get("value") or ""
        try:
            if tag in definitions._EXPRESSION_TAGS and text:
                check_expression(text)
            elif tag in definitions._SCRIPT_TAGS and text:
                check_script(el.text or "")
            elif tag == "parameter" and value:
                check_expression(value)
        except ExpressionRefused as exc:
            out.append(_expression_problem(exc, name, el))


def _check_dmn_expressions(name: str, root: etree._Element, out: list[Problem]) -> None:
    for el in root.iter():
        owner = el.getparent()
        if not isinstance(el.tag, str) or etree.QName(el).localname != "text" or owner is None:
            continue
        try:
            definitions.check_dmn_cell(etree.QName(owner).localname, el.text or "")
        except ExpressionRefused as exc:
            out.append(_expression_problem(exc, name, el))


def _check_lanes_and_tasks(name: str, root: etree._Element, forms: set[str], out: list[Problem]) -> None:
    from handlers import REGISTRY, load_all

    load_all()
    lane_of: dict[str, str] = {}
    for lane in root.iterfind(".//bpmn:lane", _NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", _NS):
            lane_of[(ref.text or "").strip()] = lane.get("name") or lane.get("id") or ""
    for task in root.iterfind(".//bpmn:userTask", _NS):
        tid = task.get("id") or ""
        lane_name = lane_of.get(tid, "")
        if lane_name not in definitions.ROLES_BY_LANE:
            out.append(Problem(ProblemKind.LANE, name, tid, ProblemCode.UNKNOWN_LANE,
                               {"lane": lane_name, "lanes": ", ".join(sorted(definitions.ROLES_BY_LANE))}))
        key = _property(task, "formKey")
        if not key or key not in forms:
            out.append(Problem(ProblemKind.FORM, name, tid, ProblemCode.NO_FORM, {"key": key or ""}))
    for task in root.iterfind(".//bpmn:serviceTask", _NS):
        op = task.find(".//spiffworkflow:serviceTaskOperator", _NS)
        op_name = op.get("id") if op is not None else None
        if op_name not in REGISTRY:
            out.append(Problem(ProblemKind.SERVICE, name, task.get("id"), ProblemCode.UNKNOWN_HANDLER,
                               {"operator": op_name or ""}))


def _property(el: etree._Element, key: str) -> str | None:
    for prop in el.iterfind(".//spiffworkflow:property", _NS):
        if prop.get("name") == key:
            return prop.get("value")
    return None


def _check_reachable(name: str, root: etree._Element, out: list[Problem]) -> None:
    """Every flow node can be reached from a start event (boundary events count once their host does)."""
    for container in [*root.iterfind("bpmn:process", _NS), *root.iterfind(".//bpmn:subProcess", _NS)]:
        nodes = {el.get("id") or "": el for el in container if isinstance(el.tag, str) and el.get("id")
                 and etree.QName(el).localname not in ("sequenceFlow", "laneSet", "association", "textAnnotation",
                                                       "dataObject", "dataObjectReference", "documentation",
                                                       "extensionElements")}
        flows: dict[str, list[str]] = {}
        for flow in container.iterfind("bpmn:sequenceFlow", _NS):
            flows.setdefault(flow.get("sourceRef") or "", []).append(flow.get("targetRef") or "")
        attached: dict[str, list[str]] = {}
        for nid, el in nodes.items():
            if etree.QName(el).localname == "boundaryEvent":
                attached.setdefault(el.get("attachedToRef") or "", []).append(nid)
        todo = [nid for nid, el in nodes.items() if etree.QName(el).localname == "startEvent"
                or (etree.QName(el).localname == "subProcess" and el.get("triggeredByEvent") == "true")]
        seen: set[str] = set()
        while todo:
            nid = todo.pop()
            if nid in seen:
                continue
            seen.add(nid)
            todo.extend(flows.get(nid, []))
            todo.extend(attached.get(nid, []))
        for nid in nodes.keys() - seen:
            out.append(Problem(ProblemKind.UNREACHABLE, name, nid, ProblemCode.UNREACHABLE))


# --- DMN tables ----------------------------------------------------------------------------------

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def _literal(text: str) -> Any:
    import ast

    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return _NOT_LITERAL


_NOT_LITERAL = object()


@dataclass(frozen=True)
class _Cell:
    rule_id: str
    output: str
    type_ref: str
    value: Any  # the literal, or _NOT_LITERAL for an expression


def _dmn_cells(name: str, root: etree._Element, out: list[Problem]) -> dict[str, list[_Cell]]:
    """Output cells of every decision table, by decision id; structural problems go to ``out``."""
    ns = {"dmn": etree.QName(root).namespace or DMN_NS}
    tables: dict[str, list[_Cell]] = {}
    for decision in root.iterfind("dmn:decision", ns):
        table = decision.find("dmn:decisionTable", ns)
        if table is None:
            continue
        inputs = table.findall("dmn:input", ns)
        outputs = table.findall("dmn:output", ns)
        for output in outputs:
            if not output.get("name"):
                out.append(Problem(ProblemKind.DMN, name, output.get("id"), ProblemCode.OUTPUT_NAME))
        cells = tables.setdefault(decision.get("id") or "", [])
        for rule in table.iterfind("dmn:rule", ns):
            entries_in = rule.findall("dmn:inputEntry", ns)
            entries_out = rule.findall("dmn:outputEntry", ns)
            if len(entries_in) != len(inputs) or len(entries_out) != len(outputs):
                out.append(Problem(ProblemKind.DMN, name, rule.get("id"), ProblemCode.RULE_SHAPE, {
                    "inputs": str(len(entries_in)), "outputs": str(len(entries_out)),
                    "table_inputs": str(len(inputs)), "table_outputs": str(len(outputs))}))
                continue
            for output, entry in zip(outputs, entries_out, strict=True):
                text = entry.findtext("dmn:text", default="", namespaces=ns)
                value = _literal(text) if text.strip() else None
                type_ref = output.get("typeRef") or ""
                if value is not _NOT_LITERAL and value is not None and not _fits(value, type_ref):
                    out.append(Problem(ProblemKind.DMN, name, entry.get("id") or rule.get("id"), ProblemCode.OUTPUT_TYPE,
                                       {"value": text.strip(), "type": type_ref, "output": output.get("name") or ""}))
                cells.append(_Cell(rule.get("id") or "", output.get("name") or "", type_ref, value))
    return tables


def _fits(value: Any, type_ref: str) -> bool:
    if type_ref == "string":
        return isinstance(value, str)
    if type_ref in ("number", "integer", "double", "long"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_ref == "boolean":
        return isinstance(value, bool)
    return True


def _class_inputs(name: str, root: etree._Element) -> list[tuple[str, str]]:
    """(rule id, class code) of every rule whose first input is a quoted class code."""
    ns = {"dmn": etree.QName(root).namespace or DMN_NS}
    found = []
    for rule in root.iterfind(".//dmn:rule", ns):
        first = rule.find("dmn:inputEntry/dmn:text", ns)
        value = _literal(first.text or "") if first is not None else None
        if isinstance(value, str):
            found.append((rule.get("id") or "", value))
    return found


def _check_dmn_rules(name: str, root: etree._Element, session: Session | None, out: list[Problem]) -> None:
    from engine.model import LimitCalendar, TimeUnit

    tables = _dmn_cells(name, root, out)
    for cell in tables.get("time_limits", []):
        if cell.type_ref == "number" and isinstance(cell.value, int | float) and cell.value <= 0:
            out.append(Problem(ProblemKind.TIME_LIMIT, name, cell.rule_id, ProblemCode.NON_POSITIVE,
                               {"output": cell.output, "value": str(cell.value)}))
        if cell.output.endswith("_unit") and isinstance(cell.value, str) and cell.value not in tuple(TimeUnit):
            out.append(Problem(ProblemKind.TIME_LIMIT, name, cell.rule_id, ProblemCode.BAD_UNIT,
                               {"output": cell.output, "value": cell.value, "units": ", ".join(TimeUnit)}))
        if cell.output == "calendar" and cell.value not in tuple(LimitCalendar):
            # the same problem as a unit outside its list: an output value outside the allowed ones
            out.append(Problem(ProblemKind.TIME_LIMIT, name, cell.rule_id, ProblemCode.BAD_UNIT,
                               {"output": cell.output, "value": str(cell.value), "units": ", ".join(LimitCalendar)}))
    if "dispatch" not in tables or session is None:
        return
    from engine.models import Department, ProblemClass

    known = set(session.scalars(select(Department.handler_type))) | set(session.scalars(select(Department.code)))
    for cell in tables["dispatch"]:
        if isinstance(cell.value, str) and cell.value and cell.value not in known:  # "" = dispatcher picks
            out.append(Problem(ProblemKind.DEPARTMENT, name, cell.rule_id, ProblemCode.UNKNOWN_DEPARTMENT,
                               {"department": cell.value}))
    classes = set(session.scalars(select(ProblemClass.code)))
    for rule_id, code in _class_inputs(name, root):
        if classes and code not in classes:
            out.append(Problem(ProblemKind.DEPARTMENT, name, rule_id, ProblemCode.UNKNOWN_CLASS, {"code": code}))


# --- the whole set -------------------------------------------------------------------------------

def _check_form(name: str, text: str, out: list[Problem]) -> None:
    try:
        load_form_text(text, name)
    except FormError as exc:
        message = str(exc).removeprefix(f"{name}: ")
        match = re.search(r"component '([^']+)'", message)
        out.append(Problem(ProblemKind.FORM, name, match.group(1) if match else None, ProblemCode.BAD_FORM,
                           {"detail": message}))


def _check_parse(files: dict[str, str], out: list[Problem]) -> None:
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    try:
        definitions.build(files)
    except DefinitionError as exc:
        cause = exc.__context__
        if isinstance(cause, ValidationException):
            out.append(Problem(ProblemKind.PARSE, cause.file_name or "", cause.id or None, ProblemCode.PARSE,
                               {"detail": str(cause)}))
            return
        match = re.search(r"(?:task|element) '([^']+)'", str(exc))
        bpmn = next((n for n in files if n.endswith(".bpmn")), "")
        out.append(Problem(ProblemKind.PARSE, bpmn, match.group(1) if match else None, ProblemCode.PARSE,
                           {"detail": str(exc)}))


def validate(files: dict[str, str], session: Session | None = None) -> list[Problem]:
    """Every problem of a file set (empty when it can be proposed). Department and class checks
    need ``session``; the rest works on the files alone."""
    out: list[Problem] = []
    if not any(n.endswith(".bpmn") for n in files):
        out.append(Problem(ProblemKind.FILE, "", None, ProblemCode.NO_BPMN))
    forms = {n for n in files if n.endswith(".form")}
    for name, text in sorted(files.items()):
        if not _SAFE_NAME.match(name):
            out.append(Problem(ProblemKind.FILE, name, None, ProblemCode.BAD_NAME))
            continue
        if len(text.encode("utf-8", "surrogatepass")) > definitions.MAX_FILE_BYTES:
            out.append(Problem(ProblemKind.FILE, name, None, ProblemCode.TOO_LARGE,
                               {"limit": str(definitions.MAX_FILE_BYTES)}))
            continue
        if name.endswith(".form"):
            _check_form(name, text, out)
            continue
        root = _parse_xml(name, text, out)
        if root is None:
            continue
        if name.endswith(".bpmn"):
            _check_schema(name, root, out)
            _check_bpmn_expressions(name, root, out)
            _check_lanes_and_tasks(name, root, forms, out)
            _check_reachable(name, root, out)
        else:
            _check_dmn_expressions(name, root, out)
            _check_dmn_rules(name, root, session, out)
    if not out:
        _check_parse(files, out)
    return out


__all__ = ["Problem", "ProblemCode", "ProblemKind", "validate"]

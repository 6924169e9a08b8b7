"""XES (IEEE 1849-2016) event logs: one trace per case, one event per exported history event.

Written with lxml's incremental writer (``etree.xmlfile``): each trace is built as a small
element, written and dropped, so memory does not grow with the number of cases.
Standard extensions: concept (names), lifecycle (transition), org (resource, role, group) and
time (timestamp); the rest are plain attributes named as in the CSV export.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO

from lxml import etree

if TYPE_CHECKING:  # the incremental writer's class exists only in the type stubs
    from lxml.etree._serializer import _IncrementalFileWriter

from engine.audit.export.source import ExportCase, ExportEvent

XES_NS = "http://www.xes-standard.org/"
EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
)


def xes_time(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def _attr(parent: etree._Element, tag: str, key: str, value: object) -> None:
    if value is None or value == "":
        return
    etree.SubElement(parent, tag, key=key, value=str(value))


def trace_element(case: ExportCase) -> etree._Element:
    trace = etree.Element("trace")
    _attr(trace, "string", "concept:name", case.number)
    for key, value in (("class", case.class_code), ("urgency", case.urgency), ("district", case.district_code),
                       ("street", case.street_code), ("source", case.source), ("status", case.status),
                       ("outcome", case.outcome), ("department", case.department_code)):
        _attr(trace, "string", key, value)
    _attr(trace, "date", "reported", xes_time(case.created_at))
    if case.closed_at:
        _attr(trace, "date", "closed", xes_time(case.closed_at))
    for event in case.events:
        trace.append(event_element(case, event))
    return trace


def event_element(case: ExportCase, event: ExportEvent) -> etree._Element:
    el = etree.Element("event")
    _attr(el, "string", "concept:name", event.activity)
    _attr(el, "string", "concept:instance", event.task_id)
    _attr(el, "string", "lifecycle:transition", "complete")
    _attr(el, "string", "org:resource", event.actor)
    _attr(el, "string", "org:role", event.role)
    _attr(el, "string", "org:group", event.org_group)
    _attr(el, "date", "time:timestamp", xes_time(event.at))
    _attr(el, "int", "seq", event.seq)
    for key, value in (("kind", event.kind), ("task", event.activity_id), ("department", event.department),
                       ("district", case.district_code), ("class", case.class_code), ("urgency", case.urgency)):
        _attr(el, "string", key, value)
    return el


def _header(xf: _IncrementalFileWriter, description: str) -> None:
    for name, prefix, uri in EXTENSIONS:
        xf.write(etree.Element("extension", name=name, prefix=prefix, uri=uri))
    trace_global = etree.Element("global", scope="trace")
    _attr(trace_global, "string", "concept:name", "__INVALID__")
    event_global = etree.Element("global", scope="event")
    _attr(event_global, "string", "concept:name", "__INVALID__")
    _attr(event_global, "string", "lifecycle:transition", "complete")
    _attr(event_global, "date", "time:timestamp", "1970-01-01T00:00:00.000+00:00")
    xf.write(trace_global)
    xf.write(event_global)
    xf.write(etree.Element("classifier", name="Activity", keys="concept:name"))
    xf.write(etree.Element("classifier", name="Activity and role", keys="concept:name org:role"))
    log_name = etree.Element("string", key="concept:name", value=description)
    xf.write(log_name)


def write_xes(cases: Iterable[ExportCase], out: BinaryIO, description: str) -> tuple[int, int]:
    """Write the log; returns (traces, events)."""
    traces = events = 0
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        # The log declares the XES namespace as the default; the traces written inside it are
        # serialized without a prefix and so belong to it when read back.
        with xf.element("log", {"xes.version": "1849-2016"}, nsmap={None: XES_NS}):
            xf.write("\n")
            _header(xf, description)
            xf.write("\n")
            for case in cases:
                xf.write(trace_element(case))
                xf.write("\n")  # one line per trace: greppable, diffable
                traces += 1
                events += len(case.events)
    return traces, events

"""The three export formats, read back by the reference library (pm4py) and checked against the database."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import orjson
import pm4py
import pytest
from sqlalchemy import select

from engine import definitions
from engine.audit.export import ExportFilters, write_export
from engine.models import Case, Event
from tests.conftest import BACKENDS, START, _make

ROOT = Path(__file__).resolve().parents[4]
FIRST_DAY = date(2026, 11, 25)  # START is 09:00 on this day in Shanghai
WHOLE_RUN = ExportFilters(FIRST_DAY, FIRST_DAY + timedelta(days=60))


@pytest.fixture(scope="module", params=BACKENDS)
def simulated(request, _templates):
    """30 cases driven to their ends along every branch of the manual (timers and orders included).

    Simulated once per backend for the module (exports only read, so the tests share it), by
    ``citycase simulate`` in its own process: a simulation run inside the test process changes
    what a later one in the same process does (tests/cli/test_cases.py then misses branches)."""
    for city in _make(request, _templates, request.param, True):
        proc = subprocess.run([sys.executable, "-m", "cli", "--database-url", city.url, "simulate", "--cases", "30",
                               "--seed", "3", "--start", START.isoformat(), "--json"],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert json.loads(proc.stdout)["cases"] == 30
        yield city


def export(db, fmt: str, filters: ExportFilters = WHOLE_RUN, path=None) -> bytes:
    buffer = io.BytesIO()
    with db.session() as s:
        write_export(s, fmt, filters, buffer)
    if path is not None:
        path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def history(db) -> list[tuple[Case, list[Event]]]:
    """Every case with its events, straight from the tables."""
    with db.session() as s:
        cases = list(s.scalars(select(Case).order_by(Case.id)))
        events = list(s.scalars(select(Event).order_by(Event.case_id, Event.seq)))
        s.expunge_all()
    by_case: dict[int, list[Event]] = {}
    for e in events:
        by_case.setdefault(e.case_id, []).append(e)
    return [(c, by_case.get(c.id, [])) for c in cases]


def expected_event_count(events: list[Event]) -> int:
    """Reports, completed tasks, messages, corrections, merges and reopens count once; a timer
    event once per timer it fired."""
    n = 0
    for e in events:
        if e.kind in ("start", "complete", "message", "correction", "merge", "reopen"):
            n += 1
        elif e.kind == "timer":
            n += len(orjson.loads(e.data)["fired"])
    return n


def test_xes_read_by_pm4py_has_one_trace_per_case_and_every_event(simulated, tmp_path):
    export(simulated, "xes", path=tmp_path / "log.xes")
    log = pm4py.read_xes(str(tmp_path / "log.xes"), return_legacy_log_object=True)
    cases = history(simulated)
    assert len(log) == len(cases) == 30
    traces = {t.attributes["concept:name"]: t for t in log}
    assert set(traces) == {c.number for c, _ in cases}
    assert sum(len(t) for t in log) == sum(expected_event_count(evs) for _, evs in cases)
    with simulated.session() as s:
        names = {k: v.name for k, v in definitions.latest(s).user_tasks.items()}
    for case, events in cases:
        trace = traces[case.number]
        assert trace.attributes["class"] == case.class_code
        assert trace.attributes["district"] == case.district_code
        assert trace.attributes["urgency"] == case.urgency
        completes = [e for e in events if e.kind == "complete"]
        logged = [e for e in trace if e["kind"] == "complete"]
        assert [e["concept:name"] for e in logged] == [names[e.task_spec] for e in completes]
        assert [e["org:resource"] for e in logged] == [e.actor for e in completes]
        assert all(e["lifecycle:transition"] == "complete" for e in trace)
        assert [e["time:timestamp"] for e in trace] == sorted(e["time:timestamp"] for e in trace)
        for e in trace:
            assert (e["district"], e["class"], e["urgency"]) == (case.district_code, case.class_code, case.urgency)


def test_xes_roles_departments_and_timers(simulated, tmp_path):
    export(simulated, "xes", path=tmp_path / "log.xes")
    log = pm4py.read_xes(str(tmp_path / "log.xes"), return_legacy_log_object=True)
    events = [(t.attributes, e) for t in log for e in t]
    handled = [(c, e) for c, e in events if e.get("task") == "handle"]
    assert handled and all(e["org:role"] == "handler" and e["org:resource"].startswith("handler_") for _, e in handled)
    # The department that handled is the one the handler works for (its account is named after it).
    assert all(e["org:resource"] == "handler_" + e["org:group"].replace("@", "_") for _, e in handled)
    dispatches = [e for _, e in events if e.get("task") == "dispatch"]
    assert dispatches and all(e["org:role"] == "dispatcher" and "org:group" not in e for e in dispatches)
    timers = [e for _, e in events if e["kind"] == "timer"]
    assert timers, "the scripted plans include late cases"
    assert all(e["org:resource"] == "scheduler" for e in timers)
    assert {e["concept:name"] for e in timers} <= {f"{task} {timer}" for task in ("核实", "受理", "立案", "派遣", "处置", "核查", "结案")
                                                   for timer in ("预警 80%", "超时 100%")}


def test_ocel_read_by_pm4py_has_cases_tasks_departments(simulated, tmp_path):
    export(simulated, "ocel", path=tmp_path / "log.ocel.json")
    ocel = pm4py.read_ocel2_json(str(tmp_path / "log.ocel.json"))
    cases = history(simulated)
    types = Counter(ocel.objects["ocel:type"])
    completes = [e for _, evs in cases for e in evs if e.kind == "complete"]
    departments = {c.department_code for c, _ in cases if c.department_code}
    assert types["case"] == 30
    assert types["task"] == len(completes)
    assert types["department"] >= len(departments) >= 1
    assert len(ocel.events) == sum(expected_event_count(evs) for _, evs in cases)
    relations = ocel.relations
    per_event = relations.groupby("ocel:eid")["ocel:oid"].apply(set)
    assert all(any(oid.startswith("case:") for oid in oids) for oids in per_event)
    task_links = relations[relations["ocel:oid"].str.startswith("task:")]
    assert len(task_links) == len(completes)
    assert set(task_links["ocel:oid"]) == {f"task:{e.task_id}" for e in completes}


def test_csv_one_row_per_event_with_bom(simulated):
    raw = export(simulated, "csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as "this is UTF-8"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    cases = history(simulated)
    assert list(rows[0]) == ["case", "seq", "time", "activity", "actor", "role", "department", "district", "class",
                             "urgency", "kind"]
    assert len(rows) == sum(expected_event_count(evs) for _, evs in cases)
    assert {r["case"] for r in rows} == {c.number for c, _ in cases}
    assert any("处置" == r["activity"] for r in rows)
    assert all(r["time"].endswith("+08:00") for r in rows)  # the city's time zone


def test_filters_select_cases_by_district_class_and_department(simulated):
    cases = [c for c, _ in history(simulated)]
    district = Counter(c.district_code for c in cases).most_common(1)[0][0]
    klass = Counter(c.class_code for c in cases).most_common(1)[0][0]
    department = Counter(c.department_code for c in cases if c.department_code).most_common(1)[0][0]
    for field, attr, value in (("district", "district_code", district), ("class_code", "class_code", klass),
                               ("department", "department_code", department)):
        filters = ExportFilters(WHOLE_RUN.date_from, WHOLE_RUN.date_to, **{field: value})
        rows = list(csv.DictReader(io.StringIO(export(simulated, "csv", filters).decode("utf-8-sig"))))
        wanted = {c.number for c in cases if getattr(c, attr) == value}
        assert {r["case"] for r in rows} == wanted and 0 < len(wanted) < 30, field

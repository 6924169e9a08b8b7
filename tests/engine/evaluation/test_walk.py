"""One case's events → what it counts for: deadlines from the recorded services, suspension,
rework, corrections of the place (no database: event rows written out by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.evaluation.metrics import Kind, Metric
from engine.evaluation.walk import EventRow, walk_case

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
REPORT = {"source": "citizen", "district_code": "330191", "street_code": "330191001",
          "community_code": "330191001001", "grid_code": "330191001001001", "class_code": "E0102"}


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def due(op: str, hours: float) -> dict:
    return {"services": [{"op": op, "result": {"due_at": at(hours).isoformat()}}]}


def ev(hours, kind, spec=None, actor="x", data=None) -> EventRow:
    return EventRow(1, at(hours), actor, kind, spec, data or {})


def done(hours, spec, form, extra=None, actor="x") -> EventRow:
    return ev(hours, "complete", spec, actor, {"form": form, **(extra or {})})


def dispatched(handle_due: float) -> list[EventRow]:
    return [ev(0, "start", actor="citizen", data={"report": REPORT, **due("step_deadline", 2)}),
            done(1, "verify", {"verdict": "confirmed"}, due("step_deadline", 3), actor="supervisor3"),
            done(2, "accept", {"decision": "file"}, due("step_deadline", 4), actor="acceptor1"),
            done(3, "file", {"decision": "file"}, due("step_deadline", 5), actor="shiftleader1"),
            done(4, "dispatch", {"department": "greening"}, due("start_deadline", handle_due), actor="dispatcher1")]


def test_suspended_time_does_not_make_a_department_late():
    events = [*dispatched(handle_due=10),
              done(5, "handle", {"outcome": "suspend"}),
              done(6, "approve_suspension", {"decision": "approve"}, due("suspend_deadline", 10)),
              # resumed 48 h later: the engine moved the deadline by the suspended working time
              done(54, "resume", {}, due("resume_deadline", 58)),
              done(57, "handle", {"outcome": "done"}, due("step_deadline", 60))]
    out = walk_case(events, START, END)
    assert (Kind.DEPARTMENT, "greening", Metric.HANDLED_ON_TIME) in out
    assert (Kind.DEPARTMENT, "greening", Metric.SUSPENDED) in out
    # while suspended at the period's end it is not overdue, though the first deadline has passed
    assert (Kind.DEPARTMENT, "greening", Metric.OVERDUE) not in walk_case(events[:7], START, at(30))


def test_late_handling_rework_and_overdue():
    late = [*dispatched(handle_due=10), done(12, "handle", {"outcome": "done"}, due("step_deadline", 14))]
    out = walk_case(late, START, END)
    assert (Kind.DEPARTMENT, "greening", Metric.HANDLED) in out
    assert (Kind.DEPARTMENT, "greening", Metric.HANDLED_ON_TIME) not in out
    rework = [*late, done(13, "check", {"verdict": "failed"}, due("start_deadline", 20), actor="supervisor3")]
    out = walk_case(rework, START, END)
    assert (Kind.DEPARTMENT, "greening", Metric.REWORKED) in out
    assert (Kind.DEPARTMENT, "greening", Metric.OVERDUE) in out  # sent back, new deadline passed by the end
    assert (Kind.DEPARTMENT, "greening", Metric.OVERDUE) not in walk_case(rework, START, at(19))
    assert (Kind.SUPERVISOR, "supervisor3", Metric.VERIFIED_ON_TIME) in out


def test_a_corrected_place_counts_from_the_correction_on():
    events = dispatched(handle_due=10)
    correction = ev(2.5, "correction", data={"changes": {"district_code": "330192", "street_code": "330192001"}})
    out = walk_case([*events[:3], correction, *events[3:]], START, END)
    assert (Kind.DISTRICT, "330191", Metric.REPORTED) in out
    assert (Kind.DISTRICT, "330192", Metric.FILED) in out and (Kind.DISTRICT, "330191", Metric.FILED) not in out


def test_only_the_period_counts():
    events = dispatched(handle_due=10)
    out = walk_case(events, START, at(2.5))  # ends after verify and accept
    assert (Kind.DISTRICT, "330191", Metric.REPORTED) in out
    assert not any(m == Metric.DISPATCHED for _, _, m in out)
    # from before the dispatch to before the handling deadline: dispatched, not yet overdue
    assert walk_case(events, at(3.5), at(8)) == {(Kind.DISPATCHER, "dispatcher1", Metric.DISPATCHED),
                                               (Kind.DISPATCHER, "dispatcher1", Metric.DISPATCHED_ON_TIME),
                                               (Kind.DEPARTMENT, "greening", Metric.DISPATCHED),
                                               *{(k, REPORT[c], Metric.DISPATCHED) for k, c in
                                                 ((Kind.DISTRICT, "district_code"), (Kind.STREET, "street_code"),
                                                  (Kind.COMMUNITY, "community_code"), (Kind.GRID, "grid_code"))}}

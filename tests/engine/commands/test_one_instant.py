"""Each command reads the clock once and uses that instant everywhere (issue 9): the event, the
task stamps SpiffWorkflow writes, task rows, deadlines, outbox rows and the case number's day.
The scheduler firing timers on the real clock leaves cases that replay exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import select

from engine import scheduler
from engine.clock import ManualClock, SystemClock
from engine.commands import claim, fire_timers, rate_case, release, supervise
from engine.model import EngineContext
from engine.models import Case, Event, Outbox, TaskRow
from tests.factories import CaseDriver, leader_of, task_of

DEPT = "sanitation@330191"


class CountingClock:
    """A clock that moves a millisecond on every read, and counts the reads."""

    def __init__(self, start: datetime) -> None:
        self.instant, self.reads = start, 0

    def now(self) -> datetime:
        self.reads += 1
        self.instant += timedelta(milliseconds=1)
        return self.instant

    def reads_during(self, action) -> int:
        before = self.reads
        action()
        return self.reads - before


def _verify(db):
    from engine.audit import verify_all

    with db.session() as s:
        return verify_all(s)


def _to_handle(d: CaseDriver) -> None:
    d.start()
    d.do("verify", {"verdict": "confirmed"})
    d.do("accept", {"decision": "file"})
    d.do("file", {"decision": "file"})
    d.do("dispatch", {"department": DEPT})


def test_every_command_reads_the_clock_once(city, clock):
    counting = CountingClock(clock.now())
    ctx = EngineContext(counting)
    d = CaseDriver(city, ctx)
    assert counting.reads_during(d.start) == 1
    assert counting.reads_during(lambda: d.do("verify", {"verdict": "confirmed"})) == 1
    with city.session() as s:
        accept = task_of(s, d.case_id, "accept").id

    def in_tx(command):
        def run():
            with city.session() as s:
                command(s)
        return run

    from tests.factories import ACCEPTOR
    assert counting.reads_during(in_tx(lambda s: claim(s, ctx, accept, ACCEPTOR))) == 1
    assert counting.reads_during(in_tx(lambda s: release(s, ctx, accept, ACCEPTOR))) == 1
    for step, data in (("accept", {"decision": "file"}), ("file", {"decision": "file"}),
                       ("dispatch", {"department": DEPT})):
        assert counting.reads_during(lambda step=step, data=data: d.do(step, data)) == 1
    order = in_tx(lambda s: supervise(s, ctx, d.case_id, leader_of(DEPT), "order", "请今日完成"))
    assert counting.reads_during(order) == 1
    counting.instant += timedelta(days=30)  # every timer of the handle step is due
    assert counting.reads_during(in_tx(lambda s: fire_timers(s, ctx, d.case_id))) == 1
    for step, data in (("handle", {"outcome": "done", "result": "已清理"}), ("check", {"verdict": "passed"}),
                       ("close", {"note": "结案"})):
        assert counting.reads_during(lambda step=step, data=data: d.do(step, data)) == 1
    assert counting.reads_during(in_tx(lambda s: rate_case(s, ctx, d.case_id, 5, "好"))) == 1
    # The clock moved on every read, yet each event's instant is what its command stored everywhere.
    with city.session() as s:
        events = s.scalars(select(Event).where(Event.case_id == d.case_id).order_by(Event.seq)).all()
        outbox = s.scalars(select(Outbox).where(Outbox.case_id == d.case_id)).all()
    assert len({e.at for e in events}) == len(events)
    assert {o.created_at for o in outbox} <= {e.at for e in events}
    assert _verify(city) == (1, [])


def test_state_task_rows_and_event_share_the_commands_instant(sqlite_city, clock):
    counting = CountingClock(clock.now())
    d = CaseDriver(sqlite_city, EngineContext(counting))
    d.start()
    d.do("verify", {"verdict": "confirmed"})
    with sqlite_city.session() as s:
        event = s.scalars(select(Event).where(Event.case_id == d.case_id).order_by(Event.seq.desc())).first()
        accept = task_of(s, d.case_id, "accept")
        case = s.get(Case, d.case_id)
    assert accept.created_at == event.at == case.updated_at
    stamps = {t["last_state_change"] for t in orjson.loads(case.state)["tasks"].values()}
    assert event.at.timestamp() in stamps  # the tasks this command touched carry its instant
    assert max(stamps) == event.at.timestamp()


def test_the_scheduler_on_the_real_clock_leaves_cases_that_replay(city):
    # Cases started a month ago (manual clock), their timers fired now by the real clock.
    past = ManualClock(datetime.now(UTC) - timedelta(days=30))
    drivers = [CaseDriver(city, EngineContext(past)) for _ in range(2)]
    for d in drivers:
        _to_handle(d)
        past.advance(timedelta(minutes=5))
    counts = scheduler.tick(city.factory, EngineContext(SystemClock()), sender=lambda _kind, _payload: None)
    assert counts["fired"] == 2 and counts["errors"] == 0
    with city.session() as s:
        kinds = s.scalars(select(Event.kind).where(Event.kind == "timer")).all()
        escalated = s.scalars(select(TaskRow.spec_id).where(TaskRow.case_id.in_([d.case_id for d in drivers]))).all()
    assert len(kinds) == 2 and escalated
    assert _verify(city) == (2, [])


@pytest.mark.parametrize("offset_hours", [0, 16])
def test_the_case_number_day_is_the_commands_day(sqlite_city, offset_hours):
    # 16:00 UTC is already the next day in Shanghai: the number follows the same instant as the event.
    at = datetime(2026, 11, 25, offset_hours, 0, tzinfo=UTC)
    d = CaseDriver(sqlite_city, EngineContext(ManualClock(at)))
    result = d.start()
    assert result.number.startswith("20261125" if offset_hours == 0 else "20261126")

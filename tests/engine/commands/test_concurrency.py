"""Two caseworkers complete the same task at the same moment: exactly one wins, the other gets 409."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from engine.commands import LIVE, complete_task
from engine.errors import Conflict
from engine.model import EngineContext
from engine.models import Event
from tests.factories import CaseDriver, actor_for, task_of


@pytest.mark.parametrize("rounds", [3])
def test_concurrent_completion_exactly_one_wins(city, clock, rounds):
    ctx = EngineContext(clock)
    for _ in range(rounds):
        d = CaseDriver(city, ctx)
        d.start()
        with city.session() as s:
            row = task_of(s, d.case_id, "verify")
            actor = actor_for(row)
        LIVE.clear()  # both threads load from the database, as two web workers would
        barrier = threading.Barrier(2)
        results: list[object] = []

        def worker(verdict: str, barrier=barrier, row=row, actor=actor, results=results) -> None:
            session = city.factory()
            try:
                barrier.wait()
                complete_task(session, ctx, row.id, actor, {"verdict": verdict})
                session.commit()
                results.append("ok")
            except Conflict as exc:
                session.rollback()
                results.append(exc)
            finally:
                session.close()

        threads = [threading.Thread(target=worker, args=(v,)) for v in ("confirmed", "not_found")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(type(r).__name__ for r in results) == ["Conflict", "str"], results
        assert all(getattr(r, "http_status", 409) == 409 for r in results if r != "ok")
        with city.session() as s:
            completes = s.scalar(select(func.count()).select_from(Event).where(
                Event.case_id == d.case_id, Event.kind == "complete"))
        assert completes == 1
        assert d.case().version == 2

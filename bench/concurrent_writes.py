"""Eight clients reporting and completing at once through /api/v1: who was refused, and how fast.

Shared by the test that asserts no write is wrongly refused on SQLite
(tests/web/test_concurrent_writes.py, a few seconds) and by the bench, which runs it longer and
states the p95 latency. A client is anything with ``call(method, path, body) -> (status, json)``:
a Flask test client in a thread, or an HTTP connection to a served app.

Refusals that are right: a claim that lost to another supervisor (403 "claimed by …" or 409). Every
other refusal is wrong: a report never conflicts with anything, and a task this client claimed is
only completed by it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

PASSWORD = "demo1234"  # the demo city's accounts (engine.seed)
REPORTERS = ("acceptor1",) * 4
VERIFIERS = ("supervisor1", "supervisor2")  # both patrol the district of the city centre
READERS = ("acceptor1", "shiftleader1")


class Client(Protocol):
    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]: ...


@dataclass
class Outcome:
    ok: int = 0
    done: Counter = field(default_factory=Counter)  # successful calls by kind
    lost_claims: int = 0  # a fair refusal: someone else claimed the task first
    wrong: list[tuple[str, int, Any]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def p95_ms(self) -> float:
        values = sorted(self.latencies)
        return round(values[int(0.95 * (len(values) - 1))] * 1000, 1) if values else 0.0

    def record(self, what: str, status: int, body: Any, seconds: float, *, lost_race: bool = False) -> bool:
        with self.lock:
            self.latencies.append(seconds)
            if status < 400:
                self.ok += 1
                self.done[what] += 1
                return True
            if lost_race and status in (403, 409):
                self.lost_claims += 1
            else:
                self.wrong.append((what, status, body))
            return False


def _timed(outcome: Outcome, client: Client, what: str, method: str, path: str,
           body: dict[str, Any] | None = None, *, lost_race: bool = False) -> tuple[bool, Any]:
    started = time.perf_counter()
    status, payload = client.call(method, path, body)
    ok = outcome.record(what, status, payload, time.perf_counter() - started, lost_race=lost_race)
    return ok, payload


def _reporter(center: tuple[float, float]) -> Callable[[Client, Outcome, int], None]:
    def step(client: Client, outcome: Outcome, n: int) -> None:
        body = {"source": "hotline", "class_code": "E0102", "lon": center[0], "lat": center[1],
                "description": f"并发上报 concurrent report {n}", "address": "演示路 1 号"}
        _timed(outcome, client, "report", "POST", "/api/v1/cases", body)
    return step


def _verifier(client: Client, outcome: Outcome, _n: int) -> None:
    ok, listing = _timed(outcome, client, "inbox", "GET", "/api/v1/tasks?limit=20")
    tasks = [t for t in (listing or {}).get("tasks", []) if t["spec_id"] == "verify"] if ok else []
    for task in tasks[:3]:
        ok, _ = _timed(outcome, client, "claim", "POST", f"/api/v1/tasks/{task['id']}/claim", {}, lost_race=True)
        if not ok:
            continue
        ok, detail = _timed(outcome, client, "detail", "GET", f"/api/v1/tasks/{task['id']}")
        if ok:
            _timed(outcome, client, "complete", "POST", f"/api/v1/tasks/{task['id']}/complete",
                   {"data": {"verdict": "confirmed"}, "version": detail["version"]})
        return


def _reader(client: Client, outcome: Outcome, _n: int) -> None:
    _timed(outcome, client, "inbox", "GET", "/api/v1/tasks?limit=20")


def run(sign_in: Callable[[str], Client], center: tuple[float, float], seconds: float) -> Outcome:
    """Sign in the eight clients, then let them work at once for ``seconds``."""
    report = _reporter(center)
    plan = [(name, report) for name in REPORTERS] + [(name, _verifier) for name in VERIFIERS] \
        + [(name, _reader) for name in READERS]
    clients = [(sign_in(name), step) for name, step in plan]
    outcome = Outcome()
    deadline = time.monotonic() + seconds
    start = threading.Barrier(len(clients))

    def work(client: Client, step) -> None:
        start.wait()
        n = 0
        while time.monotonic() < deadline:
            n += 1
            step(client, outcome, n)

    threads = [threading.Thread(target=work, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome

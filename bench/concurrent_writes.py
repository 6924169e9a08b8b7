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


# --- the bench section (`citycase bench --only writes`) -----------------------------------------------

class HttpClient:
    """A JSON client of a served app: a keep-alive connection (reopened when the server closed it)
    and its session cookie."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = None
        self.cookie = ""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        import http.client
        import json

        headers = {"Content-Type": "application/json"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        payload = json.dumps(body) if body is not None else None
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response.status, (json.loads(data) if data[:1] in (b"{", b"[") else None)


def bench_run(results, scratch, quick: bool) -> None:
    """Eight clients against ``citycase serve`` on SQLite: wrongly refused writes and p95 latency."""
    from bench.common import log
    from bench.http_bench import Server
    from engine.db import make_engine, session_factory

    seconds = 15.0 if quick else 60.0
    url = scratch.city("sqlite")
    engine = make_engine(url)
    with session_factory(engine)() as s:
        from bench import loader

        # a point in 330191, the district VERIFIERS patrol
        center = next((lon, lat) for _c, _cm, _st, district, lon, lat in loader.read_city(s).cells
                      if district == "330191")
    engine.dispose()
    server = Server(url, scratch.tmp / "writes_server.log")
    try:
        server.wait_ready()

        def sign_in(username: str) -> HttpClient:
            client = HttpClient(server.port)
            status, body = client.call("POST", "/api/v1/login", {"username": username, "password": PASSWORD})
            if status != 200:
                raise RuntimeError(f"sign-in of {username}: HTTP {status} {body}")
            return client

        log(f"writes: 8 clients reporting and completing for {seconds:.0f} s on SQLite")
        outcome = run(sign_in, tuple(center), seconds)
    finally:
        server.stop()
        scratch.drop(url)
    results.note(f"writes: citycase serve (gunicorn, 2 workers) on SQLite; 4 clients report, 2 claim and "
                 f"complete verifications, 2 read inboxes, all at once for {seconds:.0f} s")
    results.add("writes wrongly refused, 8 concurrent clients on SQLite", len(outcome.wrong), "requests", "<= 0")
    results.add("reports + completions acknowledged, 8 clients on SQLite",
                outcome.done["report"] + outcome.done["complete"], "writes")
    results.add("p95 latency, 8 concurrent clients on SQLite", outcome.p95_ms(), "ms")
    if outcome.wrong:
        results.note(f"writes: e.g. {outcome.wrong[0]}")

"""Section 5 — HTTP: inbox pages and task completions through the production server.

The server is ``citycase serve`` (gunicorn: 2 workers × 4 threads, the scheduler in the master)
on 127.0.0.1 only, started as a child process on a scratch database: the demo city, bulk-loaded
open cases with tasks (``bench.loader``, not run through the engine) so that inbox queues have a
city's depth, and real cases waiting for acceptance for the completion phase. The load comes from
``USERS`` simulated users in this process (one thread each, keep-alive ``http.client``
connections, each signed in as a demo user through the login form), all on the same 2-core
machine as the server and the database — the client's CPU is part of the load.

Phases (bounded in requests and time):
1. inbox, no think time: every user fetches its inbox first page again and again → the most
   pages/s the server gives, and the latency then;
2. inbox, paced: the users together offer ``PACED_RATE`` pages/s → p95 latency at the target load;
3. task completion: users (tabs of the signed-in acceptor) POST the accept form of distinct real cases
   (form data + CSRF token, the same request a browser sends) → completions/s and latency.
Peak RSS (VmHWM) of the gunicorn workers and master is read from /proc after the phases.
"""

from __future__ import annotations

import http.client
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import PROJECT_ROOT, Scratch, log, peak_rss_mb, percentile
from bench.report import Results

USERS = 50
PACED_RATE = 300.0
PASSWORD = "demo1234"  # the demo city's accounts (engine.demo.seed)
_CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


class Client:
    """One simulated user: a keep-alive connection and the cookies the server set."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self.location = ""

    def request(self, method: str, path: str, form: dict[str, Any] | None = None) -> tuple[int, str]:
        body = urlencode(form, doseq=True) if form is not None else None
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept-Language": "zh-CN"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                if "=" in pair:
                    k, v = pair.split("=", 1)
                    self.cookies[k.strip()] = v.strip()
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        self.location = response.getheader("Location", "")
        return response.status, text

    def sign_in(self, username: str) -> None:
        status, page = self.request("GET", "/login")
        match = _CSRF.search(page)
        if status != 200 or not match:
            raise RuntimeError(f"GET /login: {status}, no CSRF token")
        status, _ = self.request("POST", "/login", {"username": username, "password": PASSWORD,
                                                     "csrf_token": match.group(1)})
        if status not in (302, 303):
            raise RuntimeError(f"sign-in of {username} failed: HTTP {status}")
        status, page = self.request("GET", "/inbox?tab=group")
        match = _CSRF.search(page)
        if status != 200 or not match:
            raise RuntimeError(f"{username}: GET /inbox after sign-in gave HTTP {status}")
        self.csrf = match.group(1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                out.append(int(entry.name))
    return out


class Server:
    """``citycase serve`` on 127.0.0.1 as our own child process (stopped by its pid)."""

    def __init__(self, url: str, log_path: Path) -> None:
        self.port = _free_port()
        env = dict(os.environ, CITYCASE_DATABASE_URL=url, CITYCASE_SECRET_KEY=secrets.token_hex(32),
                   PYTHONUNBUFFERED="1")
        self.log_file = open(log_path, "w")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1",
                                      "--port", str(self.port), "--workers", "2"],
                                     cwd=PROJECT_ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT)
        self.log_path = log_path

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}: {self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login")
                status = conn.getresponse().status
                conn.close()
                if status == 200 and len(_children(self.proc.pid)) >= 2:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return ""

    def rss(self) -> dict[str, float]:
        workers = [peak_rss_mb(pid) or 0.0 for pid in _children(self.proc.pid)]
        return {"workers": max(workers) if workers else 0.0, "master": peak_rss_mb(self.proc.pid) or 0.0}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log_file.close()


# --- load ---------------------------------------------------------------------------------------

def _sign_in_all(port: int, usernames: list[str]) -> list[Client]:
    """One client per entry; each distinct user signs in once through the login form and the
    others with the same name share that session cookie (one person, several tabs). The login
    form is rate-limited per address (30/minute), which 50 separate sign-ins would exceed."""
    first: dict[str, Client] = {}
    errors: list[str] = []

    def go(client: Client, name: str) -> None:
        try:
            client.sign_in(name)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{name}: {exc}")

    for name in usernames:
        first.setdefault(name, Client(port))
    threads = [threading.Thread(target=go, args=(c, n)) for n, c in first.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} sign-ins failed, e.g. {errors[0]}")
    clients = []
    for name in usernames:
        c = Client(port)
        c.cookies, c.csrf = dict(first[name].cookies), first[name].csrf
        clients.append(c)
    return clients


def _run_users(clients: list[Client], work, seconds: float, max_requests: int,
               rate: float | None = None) -> dict[str, Any]:
    """Each client runs ``work(client, i) -> ok`` in a loop until time or the request budget ends."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    budget = iter(range(max_requests))
    stop_at = time.monotonic() + seconds
    start = time.monotonic()
    interval = len(clients) / rate if rate else 0.0

    def user(k: int, client: Client) -> None:
        next_at = start + (k * interval / len(clients) if interval else 0.0)
        while time.monotonic() < stop_at:
            if interval:
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                next_at += interval
            with lock:
                i = next(budget, None)
            if i is None:
                return
            t0 = time.perf_counter()
            try:
                ok = work(client, i)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001
                ok = f"{exc.__class__.__name__}: {exc}"
            elapsed = time.perf_counter() - t0
            with lock:
                if ok is True:
                    latencies.append(elapsed)
                else:
                    failures.append(str(ok))

    cpu0 = time.process_time()
    threads = [threading.Thread(target=user, args=(k, c), daemon=True) for k, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    wall = time.monotonic() - start
    client_cpu = (time.process_time() - cpu0) / wall if wall > 0 else 0.0
    return {"ok": len(latencies), "failed": len(failures), "failures": failures[:3], "seconds": wall,
            "client_cpu": client_cpu,
            "per_second": len(latencies) / wall if wall > 0 else 0.0,
            "p50": percentile([x * 1000 for x in latencies], 50) if latencies else float("nan"),
            "p95": percentile([x * 1000 for x in latencies], 95) if latencies else float("nan")}


def _inbox_users(handler_departments: list[str]) -> list[tuple[str, str]]:
    """(username, inbox path) for ``USERS`` users of every role (17 distinct accounts)."""
    local = [d for d in handler_departments if d.startswith("sanitation@")][:3] or handler_departments[:3]
    others = [d for d in handler_departments if d not in local][:5]
    users: list[tuple[str, str]] = []
    for i in range(USERS):
        kind = i % 10
        if kind in (0, 1):
            users.append((f"supervisor{1 + 2 * (i % 3)}", "/inbox?tab=group" + ("&light=red" if kind else "")))
        elif kind == 2:
            users.append(("acceptor1", "/inbox?tab=group"))
        elif kind == 3:
            users.append(("shiftleader1", "/inbox?tab=group"))
        elif kind == 4:
            users.append(("dispatcher1", "/inbox?tab=group"))
        elif kind in (5, 6, 7):
            d = local[i % len(local)]
            users.append((f"handler_{d.replace('@', '_')}",
                          {5: "/inbox?tab=group", 6: "/inbox?tab=group&light=red", 7: "/inbox?tab=mine"}[kind]))
        elif kind == 8:
            d = local[i % len(local)]
            users.append((f"leader_{d.replace('@', '_')}", "/inbox?tab=group"))
        else:
            d = others[i % len(others)]
            users.append((f"handler_{d.replace('@', '_')}", "/inbox?tab=group"))
    return users


def _accept_task_ids(url: str) -> list[str]:
    from sqlalchemy import select

    from engine.db import make_engine, session_factory
    from engine.models import Case, TaskRow

    engine = make_engine(url)
    with session_factory(engine)() as s:  # real cases only: bulk-loaded ones have no workflow state
        ids = list(s.scalars(select(TaskRow.id).join(Case, Case.id == TaskRow.case_id)
                             .where(TaskRow.spec_id == "accept", TaskRow.assignee.is_(None),
                                    Case.reporter != "bench").order_by(TaskRow.id)))
    engine.dispose()
    return ids


def run(results: Results, scratch: Scratch, quick: bool, out_dir: Path) -> None:
    # Longer than 60 lines on purpose: one bench section, its measurements in the order they are reported.
    from bench import engine_bench, loader

    backend = "postgres" if "postgres" in scratch.backends() else "sqlite"
    name = "PostgreSQL" if backend == "postgres" else "SQLite"
    open_cases = 10_000 if quick else 100_000
    accept_cases = 200 if quick else 1500
    seconds = 5.0 if quick else 15.0
    url = scratch.city(backend)
    from engine.db import make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine)() as s:
        city = loader.read_city(s)
    engine.dispose()
    log(f"http: {name}: {accept_cases} real cases waiting for acceptance, {open_cases:,} bulk-loaded open cases")
    engine_bench.run_processes("start_only", url, accept_cases, 2)
    loader.load(url, city, loader.next_case_id(url), open_cases, True, seed=29)
    results.note(f"server: citycase serve (gunicorn, 2 workers × 4 threads, scheduler in the master) on "
                 f"127.0.0.1 with {name}; {open_cases:,} open cases with tasks bulk-loaded (not run through the "
                 f"engine) plus {accept_cases} real cases waiting for acceptance; {USERS} users in one client "
                 f"process on the same machine; phases of ≤ {seconds:.0f} s")
    server = Server(url, scratch.tmp / "http_server.log")
    try:
        server.wait_ready()
        users = _inbox_users(city.handler_departments)
        log(f"http: signing in {USERS} users")
        clients = _sign_in_all(server.port, [u for u, _ in users])
        paths = [p for _, p in users]
        path_of = {id(c): p for c, p in zip(clients, paths, strict=True)}

        def inbox(client: Client, _i: int):
            status, _ = client.request("GET", path_of[id(client)])
            return True if status == 200 else f"HTTP {status}"

        log("http: inbox pages, no think time")
        flat = _run_users(clients, inbox, seconds, 20_000)
        results.add(f"inbox pages/s, {USERS} users, no think time", flat["per_second"], "pages/s", ">= 300")
        results.add("inbox p50, no think time", flat["p50"], "ms")
        results.add("inbox p95, no think time", flat["p95"], "ms")
        log(f"http: {flat['per_second']:.0f} pages/s, p95 {flat['p95']:.0f} ms")
        results.note(f"the client itself used {flat['client_cpu']:.0%} of one core during the no-think-time "
                     f"inbox phase (of the machine's 2 cores)")
        log(f"http: inbox pages paced at {PACED_RATE:.0f}/s")
        paced = _run_users(clients, inbox, seconds, int(PACED_RATE * seconds), rate=PACED_RATE)
        results.add(f"inbox pages/s achieved, {PACED_RATE:.0f}/s offered", paced["per_second"], "pages/s")
        results.add(f"inbox p95 at {PACED_RATE:.0f} pages/s offered", paced["p95"], "ms", "<= 100")
        log(f"http: paced: {paced['per_second']:.0f} pages/s, p95 {paced['p95']:.0f} ms")
        for label, r in (("no think time", flat), ("paced", paced)):
            if r["failed"]:
                results.note(f"inbox {label}: {r['failed']} requests failed, e.g. {r['failures'][0]}")

        task_ids = _accept_task_ids(url)
        if not task_ids:
            results.note("no accept tasks found for the completion phase")
        else:
            log(f"http: {USERS} acceptor tabs completing up to {len(task_ids)} tasks")
            acceptor = clients[[u for u, _ in users].index("acceptor1")]
            acceptors = []
            for _ in range(USERS):
                c = Client(server.port)
                c.cookies, c.csrf = dict(acceptor.cookies), acceptor.csrf
                acceptors.append(c)
            todo: queue.SimpleQueue[str] = queue.SimpleQueue()
            for t in task_ids:
                todo.put(t)

            def complete(client: Client, _i: int):
                try:
                    task_id = todo.get_nowait()
                except queue.Empty:
                    raise StopIteration from None
                status, _ = client.request("POST", f"/tasks/{task_id}",
                                           {"csrf_token": client.csrf, "decision": "file", "note": ""})
                if status in (302, 303) and "/login" not in client.location:
                    return True
                return f"HTTP {status} {client.location}"

            done = _run_users(acceptors, complete, seconds, len(task_ids))
            left = len(_accept_task_ids(url))
            if len(task_ids) - left != done["ok"]:
                results.note(f"task completion: {done['ok']} requests answered with a redirect but "
                             f"{len(task_ids) - left} accept tasks were completed in the database")
            results.add(f"task completions/s over HTTP, {USERS} users", done["per_second"], "compl/s")
            results.add("task completion p95 over HTTP", done["p95"], "ms")
            if done["failed"]:
                results.note(f"task completion: {done['failed']} requests failed, e.g. {done['failures'][0]}")
            log(f"http: {done['per_second']:.0f} completions/s, p95 {done['p95']:.0f} ms")
        rss = server.rss()
        results.memory["gunicorn web worker (largest of 2), HTTP runs"] = rss["workers"]
        results.memory["gunicorn master with the scheduler, HTTP runs"] = rss["master"]
    finally:
        server.stop()
        scratch.drop(url)

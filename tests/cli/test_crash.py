"""kill -9 of a served app and of a scheduler process while clients are writing: no acknowledged
command is lost, and `citycase verify` passes afterwards (SQLite, the embedded default)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import Case
from tests.cli.test_serve import _free_port, _wait_for_login

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo1234"
pytestmark = pytest.mark.slow


class Proc:
    """A child process in its own process group, so kill -9 takes its workers with it."""

    def __init__(self, args: list[str], db_url: str) -> None:
        env = {**os.environ, "CITYCASE_DATABASE_URL": db_url, "CITYCASE_SCHEDULER_TICK": "0.2",
               "CITYCASE_SECRET_KEY": "crash-test-secret"}
        self.proc = subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)

    def kill9(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


def _call(port: int, method: str, path: str, body: dict | None, cookie: str | None) -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    set_cookie = response.getheader("Set-Cookie") or ""
    conn.close()
    return response.status, (json.loads(data) if data[:1] == b"{" else {}), set_cookie.split(";", 1)[0]


class Reporters:
    """Threads reporting cases; a number is 'acknowledged' once its 201 answer was read."""

    def __init__(self, center: list[float]) -> None:
        self.center, self.acknowledged, self.lock = center, [], threading.Lock()
        self.port: int | None = None
        self.stop = threading.Event()

    def run(self, cookie_for) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._loop, args=(cookie_for, n), daemon=True) for n in range(3)]
        for t in threads:
            t.start()
        return threads

    def _loop(self, cookie_for, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            port = self.port
            i += 1
            try:
                status, body, _ = _call(port, "POST", "/api/v1/cases", {
                    "source": "hotline", "class_code": "E0102", "lon": self.center[0], "lat": self.center[1],
                    "description": f"crash test {n}-{i}"}, cookie_for(port))
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)  # the server is down: try again once it is back
                continue
            if status == 201:
                with self.lock:
                    self.acknowledged.append(body["number"])


def test_kill_9_of_server_and_scheduler_loses_no_acknowledged_command(sqlite_city):
    reporters = Reporters(sqlite_city.city["center"])
    cookies: dict[int, str] = {}

    def cookie_for(port: int) -> str:
        if port not in cookies:  # a new server: sessions survive (same secret), but sign in once per port
            status, _, cookie = _call(port, "POST", "/api/v1/login",
                                      {"username": "acceptor1", "password": PASSWORD}, None)
            assert status == 200
            cookies[port] = cookie
        return cookies[port]

    def start_server() -> tuple[Proc, int]:
        port = _free_port()
        server = Proc(["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--no-scheduler"],
                      sqlite_city.url)
        _wait_for_login(server.proc, port, timeout=60)
        return server, port

    server, reporters.port = start_server()
    scheduler = Proc(["scheduler"], sqlite_city.url)
    threads = reporters.run(cookie_for)
    try:
        for _ in range(int(os.environ.get("H7_CRASHES", "2"))):
            time.sleep(1.5)
            count = len(reporters.acknowledged)
            server.kill9()
            scheduler.kill9()
            scheduler = Proc(["scheduler"], sqlite_city.url)
            server, reporters.port = start_server()
            time.sleep(1.0)
            assert len(reporters.acknowledged) >= count
        time.sleep(1.0)
    finally:
        reporters.stop.set()
        for t in threads:
            t.join(timeout=40)
        server.stop()
        scheduler.kill9()

    assert len(reporters.acknowledged) > 0
    with sqlite_city.session() as s:
        stored = set(s.scalars(select(Case.number).where(Case.number.in_(reporters.acknowledged))))
    assert stored == set(reporters.acknowledged)  # every acknowledged report survived both crashes
    verify = subprocess.run([sys.executable, "-m", "cli", "--database-url", sqlite_city.url, "verify"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "everything verifies" in verify.stdout

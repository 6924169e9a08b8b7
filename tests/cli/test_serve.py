"""``citycase serve`` (gunicorn) and ``citycase apikey`` from the command line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from cli import cli
from engine.apikeys import verify_key
from engine.models import ApiKey

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _serve(db_url: str, *args: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {**os.environ, "CITYCASE_DATABASE_URL": db_url}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), "--workers", "1",
                             *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    return proc, port


def _wait_for_login(proc: subprocess.Popen, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {proc.stderr.read()}")
        if _get(f"http://127.0.0.1:{port}/login") == 200:
            return
        time.sleep(0.2)
    raise AssertionError("serve did not answer GET /login with 200 within 30 s")


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"serve did not stop on SIGTERM: {err}") from None
    return out, err


def test_serve_smoke(sqlite_city):
    proc, port = _serve(sqlite_city.url, "--no-scheduler")
    try:
        _wait_for_login(proc, port)
        assert _get(f"http://127.0.0.1:{port}/open311/v2/services.xml") == 200
        assert _get(f"http://127.0.0.1:{port}/api/v1/tasks") == 401
    finally:
        out, err = _stop(proc)
    assert f"http://127.0.0.1:{port}/" in out
    assert "scheduler off" in out and "scheduler running" not in err
    assert proc.returncode == 0, err


def test_serve_runs_the_scheduler_in_the_master(sqlite_city):
    proc, port = _serve(sqlite_city.url)
    try:
        _wait_for_login(proc, port)
    finally:
        out, err = _stop(proc)
    assert "scheduler on" in out
    assert "scheduler running in the master process" in err or "engine.scheduler" in err
    assert proc.returncode == 0, err


def test_apikey_commands(sqlite_city):
    runner = CliRunner()
    env = {"CITYCASE_DATABASE_URL": sqlite_city.url}
    result = runner.invoke(cli, ["apikey", "create", "fixmystreet", "--json"], env=env)
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["name"] == "fixmystreet" and len(created["key"]) >= 40
    with sqlite_city.session() as s:
        assert verify_key(s, created["key"]).id == created["id"]
        assert created["key"] not in {k.key_hash for k in s.scalars(select(ApiKey))}

    result = runner.invoke(cli, ["--json", "apikey", "list"], env=env)
    listed = json.loads(result.output)
    assert [(k["id"], k["name"], k["active"]) for k in listed] == [(created["id"], "fixmystreet", True)]
    assert created["key"] not in result.output
    result = runner.invoke(cli, ["apikey", "list"], env=env)
    assert "fixmystreet" in result.output and "active" in result.output

    result = runner.invoke(cli, ["apikey", "revoke", str(created["id"])], env=env)
    assert result.exit_code == 0 and "revoked" in result.output
    with sqlite_city.session() as s:
        assert verify_key(s, created["key"]) is None
    result = runner.invoke(cli, ["apikey", "revoke", "999"], env=env)
    assert result.exit_code == 1 and "does not exist" in result.output
    result = runner.invoke(cli, ["apikey", "create", " "], env=env)
    assert result.exit_code == 1

    result = runner.invoke(cli, ["apikey", "create", "app2"], env=env)
    assert result.exit_code == 0 and "cannot be shown again" in result.output


def test_metrics_add_up_every_workers_commands(sqlite_city, clock, tmp_path):
    """Under gunicorn each worker is a process: /metrics must count what all of them did."""
    from urllib.parse import urlencode

    from engine.apikeys import create_key

    with sqlite_city.session() as s:
        _row, key = create_key(s, "metrics-test", clock.now())
    shared = tmp_path / "metrics"
    port = _free_port()
    env = {**os.environ, "CITYCASE_DATABASE_URL": sqlite_city.url, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), "--workers", "2",
                             "--threads", "1", "--no-scheduler"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lon, lat = sqlite_city.city["center"]
    body = urlencode({"api_key": key, "service_code": "E0102", "lat": lat, "long": lon,
                      "description": "metrics"}).encode()
    try:
        _wait_for_login(proc, port)
        for _ in range(6):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/open311/v2/requests.json", data=body,
                                        timeout=30) as response:
                assert response.status in (200, 201)
        counts = set()
        for _ in range(6):  # whichever worker answers, it reports all six
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
                text = response.read().decode()
            line = next(ln for ln in text.splitlines()
                        if ln.startswith('citycase_commands_total{command="start_case",outcome="ok"}'))
            counts.add(float(line.split()[-1]))
        assert counts == {6.0}
        assert 'citycase_open_tasks{light="green"}' in text
        assert list(shared.glob("counter_*.db"))  # the workers' shared files
    finally:
        _stop(proc)

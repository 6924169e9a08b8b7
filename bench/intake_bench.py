"""Section 7 — device intake: normal observations through ``POST /api/v1/intake/observations``.

Most device traffic is normal readings, which write only the device's row (last state, value and
time). The server is ``citycase serve`` (gunicorn, 2 workers) on a scratch copy of the demo city
(``http_bench.Server``); ``DEVICES`` water gauges are registered first, and ``CLIENTS`` threads in
this process (keep-alive connections, each sending for its own devices) post readings under every
gauge's threshold. The client shares the 2-core machine with the server and the database.
"""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import Scratch, log
from bench.http_bench import Server, _run_users
from bench.report import Results

DEVICES = 200
CLIENTS = 16


class DeviceClient:
    """One keep-alive connection sending JSON observations."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def post(self, body: dict[str, Any], key: str) -> int:
        data = json.dumps(body).encode()
        headers = {"Host": f"127.0.0.1:{self.port}", "Content-Type": "application/json", "X-Device-Key": key}
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("POST", "/api/v1/intake/observations", body=data, headers=headers)
                response = self.conn.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        return 0


def _register(url: str, center: tuple[float, float]) -> list[tuple[str, str]]:
    from engine.db import make_engine, session_factory, transaction
    from engine.devices.models import DeviceKind
    from engine.devices.registry import NewDevice, add_device

    engine = make_engine(url)
    keys = []
    with transaction(session_factory(engine)) as s:
        for i in range(DEVICES):
            _, key = add_device(s, NewDevice(f"WG-{i:04d}", DeviceKind.WATER_GAUGE, "drainage", center[0],
                                             center[1] + i * 1e-4), datetime.now(UTC))
            keys.append((f"WG-{i:04d}", key))
    engine.dispose()
    return keys


def _center(url: str) -> tuple[float, float]:
    from engine.db import make_engine, session_factory
    from engine.models import GridCell

    engine = make_engine(url)
    with session_factory(engine)() as s:
        cell = s.query(GridCell).first()
        point = ((cell.min_lon + cell.max_lon) / 2, (cell.min_lat + cell.max_lat) / 2)
    engine.dispose()
    return point


def run(results: Results, scratch: Scratch, quick: bool, out_dir: Path) -> None:
    backend = "postgres" if "postgres" in scratch.backends() else "sqlite"
    url = scratch.city(backend)
    seconds = 5.0 if quick else 15.0
    devices = _register(url, _center(url))
    log(f"intake: {len(devices)} water gauges registered; {CLIENTS} clients for {seconds:.0f} s")
    results.note(f"{len(devices)} water gauges on {backend}; {CLIENTS} keep-alive clients in one process on the "
                 f"same machine post readings under the threshold (each writes only the device row)")
    server = Server(url, scratch.tmp / "intake_server.log")
    try:
        server.wait_ready()
        clients = [DeviceClient(server.port) for _ in range(CLIENTS)]

        def work(client: DeviceClient, i: int) -> bool | str:
            device_id, key = devices[i % len(devices)]
            body = {"device_id": device_id, "kind": "water_gauge", "value": 5.0,
                    "at": datetime.now(UTC).isoformat()}
            status = client.post(body, key)
            return True if status == 200 else f"HTTP {status}"

        done = _run_users(clients, work, seconds, max_requests=10**7)  # type: ignore[arg-type]
        if done["failed"]:
            results.note(f"{done['failed']} observations failed, e.g. {done['failures'][:1]}")
        results.add(f"normal observations/s over HTTP, {CLIENTS} clients", done["per_second"], "obs/s", ">= 500")
        results.add("normal observation p95 over HTTP", done["p95"], "ms")
    finally:
        server.stop()

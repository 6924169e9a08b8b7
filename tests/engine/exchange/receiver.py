"""An outside platform for tests: records what it is sent over HTTP and answers as told."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import orjson
from flask import Flask, request
from werkzeug.serving import WSGIRequestHandler, make_server


class _Quiet(WSGIRequestHandler):
    """No access-log line per request (they would mix into the CLI output the tests read)."""

    def log_request(self, *args, **kwargs) -> None:
        pass


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    status: int = 200
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        app = Flask("receiver")

        @app.post("/inbox")
        def inbox():
            self.requests.append(Received(dict(request.headers), request.get_data()))
            return {"ok": self.status < 300}, self.status

        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self._server.server_port}/inbox"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()

    def messages(self) -> list[dict]:
        return [m for r in self.requests if r.headers.get("X-Citycase-Timestamp") for m in r.json["messages"]]

"""Eight clients at once on the default SQLite: no write is refused because another one was busy."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import func, select

from bench.concurrent_writes import PASSWORD, run
from engine.clock import SystemClock
from engine.models import Case
from tests.web.apikit import make_app

_addresses = itertools.count(1)


class _TestClient:
    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = f"10.9.0.{next(_addresses)}"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        response = self.client.open(path, method=method, json=body)
        return response.status_code, response.get_json(silent=True)


def test_eight_clients_reporting_and_completing_get_no_wrong_refusal(sqlite_city):
    app = make_app(sqlite_city, SystemClock())

    def sign_in(username: str) -> _TestClient:
        client = _TestClient(app)
        status, body = client.call("POST", "/api/v1/login", {"username": username, "password": PASSWORD})
        assert status == 200, body
        return client

    outcome = run(sign_in, tuple(sqlite_city.city["center"]), seconds=4)
    assert outcome.wrong == []
    with sqlite_city.factory() as s:
        before = s.scalar(select(func.count()).select_from(Case).where(Case.description.like("并发上报%")))
    # every acknowledged report is stored, and the verifiers really completed tasks
    assert outcome.done["report"] > 0 and before == outcome.done["report"]
    assert outcome.done["complete"] > 0
    app.extensions["citycase"].engine.dispose()

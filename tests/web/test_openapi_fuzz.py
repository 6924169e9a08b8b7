"""schemathesis against web/api/openapi.yaml: generated requests to every operation, signed in as an
acceptor, must get no server error and answers that match the document (status, content type,
body schema, headers). Bounded (a few examples per operation, derandomized) so `make test` stays fast.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import DataGenerationMethod

from tests.web.apikit import make_app

OPENAPI = Path(__file__).resolve().parents[2] / "web" / "api" / "openapi.yaml"
EXAMPLES = 12
_addresses = itertools.count(1)


@pytest.fixture
def fuzz_app(sqlite_city, clock):
    app = make_app(sqlite_city, clock)
    yield app
    app.extensions["citycase"].engine.dispose()


def _session_cookie(app, username: str) -> str:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.89.{next(_addresses) % 250}.1"  # the login limit is per address
    assert client.post("/api/v1/login", json={"username": username, "password": "demo1234"}).status_code == 200
    return client.get_cookie("session").value


def _fuzz(operation, cookie: str, failures: list[str], statuses: dict[int, int]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case) -> None:
        response = case.call(headers={"Cookie": f"session={cookie}"},
                             environ_base={"REMOTE_ADDR": f"10.88.{next(_addresses) % 250}.1"})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response)

    try:
        run()
    except Exception as exc:  # noqa: BLE001 - collect every operation's findings, then fail once
        failures.append(f"{operation.verbose_name}: {type(exc).__name__}: {str(exc)[:600]}")


def test_generated_requests_get_no_server_error_and_match_the_document(fuzz_app):
    raw = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    schema = schemathesis.from_dict(raw, app=fuzz_app, base_url="/api/v1",
                                    data_generation_methods=[DataGenerationMethod.positive,
                                                             DataGenerationMethod.negative])
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        # a fresh session per operation: POST /logout ends every session of the user
        _fuzz(result.ok(), _session_cookie(fuzz_app, "acceptor1"), failures, statuses)
    assert failures == [], "\n".join(failures)
    assert sum(statuses.values()) >= len(raw["paths"]) and any(200 <= s < 300 for s in statuses), statuses

"""`citycase db upgrade` from the previous release's schema, with that release's own data (docs/upgrade.md).

The previous release's code is taken from git (``git archive``) and run as an operator would have run
it: create the schema, seed the city, deploy the manuals, run some cases to the end and leave others
open. Then this tree's ``citycase db upgrade`` brings the database to the current schema; ``verify``
must pass on every old case, and an old open case must go on with the new code.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import uuid
from io import BytesIO
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from engine.db import alembic_config, make_engine
from tests.conftest import PG_URL, _admin_engine, _pg_url

ROOT = Path(__file__).resolve().parents[2]
# main as it stood at the last landed submission (schema 0010): bump when a release lands.
PREVIOUS_RELEASE = "c5b19baffe5810fb66bae459e34c4913b5205b0f"
REPORT = {"source": "citizen", "class_code": "E0102", "lon": 120.187, "lat": 30.269, "description": "升级前的案件"}


def _release_tree(dest: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", PREVIOUS_RELEASE], capture_output=True, check=False)
    assert archive.returncode == 0, (f"the previous release {PREVIOUS_RELEASE[:12]} is not in this clone's history: "
                                     f"{archive.stderr.decode()[:300]}")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _citycase(tree: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    # cwd first on sys.path: `python -m cli` runs the code of that tree
    return subprocess.run([sys.executable, "-m", "cli", "--database-url", url, *args], cwd=tree,
                          capture_output=True, text=True, check=False, timeout=900)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'release.db'}"
        return
    if not PG_URL:
        pytest.skip("postgres: set CITYCASE_TEST_POSTGRES_URL to run")
    name = f"citycase_upgrade_{uuid.uuid4().hex[:10]}"
    with _admin_engine().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    with _admin_engine().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(_pg_url(name)).database}" WITH (FORCE)'))


def test_upgrade_from_the_previous_release_keeps_every_case_verifiable(empty_url, tmp_path):
    old = _release_tree(tmp_path / "release")
    for args in (("db", "upgrade"), ("seed", "demo"), ("deploy", "bpmn/"), ("simulate", "--cases", "8")):
        _ok(_citycase(old, empty_url, *args))
    (tmp_path / "r.json").write_text(json.dumps(REPORT, ensure_ascii=False), encoding="utf-8")
    number = json.loads(_ok(_citycase(old, empty_url, "--json", "report", str(tmp_path / "r.json"))))["number"]

    out = _ok(_citycase(ROOT, empty_url, "db", "upgrade"))
    assert "Traceback" not in out
    (head,) = ScriptDirectory.from_config(alembic_config(empty_url)).get_heads()
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    engine.dispose()
    _ok(_citycase(ROOT, empty_url, "verify"))

    # an open case of the old release goes on with the new code, and still verifies
    (task,) = json.loads(_ok(_citycase(ROOT, empty_url, "--json", "tasks", "--case", number)))
    _ok(_citycase(ROOT, empty_url, "complete", task["task_id"], "--user", "supervisor1",
                  "--data", json.dumps({"verdict": "confirmed"})))
    after = json.loads(_ok(_citycase(ROOT, empty_url, "--json", "tasks", "--case", number)))
    assert [t["task"] for t in after] != [task["task"]]
    _ok(_citycase(ROOT, empty_url, "verify", "--case", number))
    _ok(_citycase(ROOT, empty_url, "verify"))

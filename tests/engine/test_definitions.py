"""Deploying definitions: versions stored once, parsed specs cached, malicious files refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import definitions
from engine.definitions import build, deploy, read_definition_files
from engine.errors import DefinitionError
from engine.models import DefinitionVersion

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return read_definition_files([ROOT / "bpmn"])


def test_the_manuals_parse_with_every_user_task_in_a_role_lane(files):
    loaded = build(files)
    assert loaded.process_id == "case_lifecycle"
    roles = {info.role for info in loaded.user_tasks.values()}
    assert roles == {"supervisor", "acceptor", "shift_leader", "dispatcher", "handler", "leader"}
    assert set(loaded.outcomes.values()) == {"closed", "self_handled", "voided", "invalid"}
    assert {"verify", "accept", "file", "dispatch", "handle", "approve_return", "approve_extension",
            "approve_suspension", "resume", "check", "close", "confirm_self_handled",
            "escalate"} <= set(loaded.user_tasks)


def test_deploying_the_same_files_twice_stores_one_version(db, clock, files):
    with db.session() as s:
        first, created = deploy(s, files, "designer1", clock.now())
    with db.session() as s:
        again, created_again = deploy(s, files, "designer1", clock.now())
        assert s.scalar(select(func.count()).select_from(DefinitionVersion)) == 1
    assert created and not created_again and first.sha256 == again.sha256


def test_a_changed_file_is_a_new_version_and_specs_are_cached(db, clock, files):
    changed = dict(files)
    changed["case_lifecycle.bpmn"] = changed["case_lifecycle.bpmn"].replace("问题上报", "问题上报(新)")
    with db.session() as s:
        v1, _ = deploy(s, files, "d", clock.now())
        v2, _ = deploy(s, changed, "d", clock.now())
    assert (v1.version, v2.version) == (1, 2)
    with db.session() as s:
        latest = definitions.latest(s)
        assert latest.id == v2.id
        assert definitions.load(s, v2.id, v2.sha256) is latest  # no re-parse


def _with_bpmn(files: dict[str, str], old: str, new: str) -> dict[str, str]:
    changed = dict(files)
    assert old in changed["case_lifecycle.bpmn"]
    changed["case_lifecycle.bpmn"] = changed["case_lifecycle.bpmn"].replace(old, new, 1)
    return changed


@pytest.mark.parametrize("condition", [
    "().__class__.__base__.__subclasses__()",
    "__import__('os').system('touch /tmp/pwned')",
    "open('/etc/passwd').read()",
    "source.__class__",
    "(lambda: 1)()",
    "[x for x in ().__class__.__mro__]",
])
def test_escaping_gateway_conditions_are_refused_naming_the_element(files, condition):
    from xml.sax.saxutils import escape

    bad = _with_bpmn(files, "verdict == &apos;confirmed&apos;" if "verdict == &apos;" in files["case_lifecycle.bpmn"]
                     else "verdict == 'confirmed'", escape(condition))
    with pytest.raises(DefinitionError) as err:
        build(bad)
    assert "Flow_gw_verified_to_accept" in str(err.value)
    assert not Path("/tmp/pwned").exists()


def test_scripts_may_only_assign(files):
    bad = _with_bpmn(files, "returns += 1", "import os")
    with pytest.raises(DefinitionError, match="count_return"):
        build(bad)


def test_service_tasks_must_call_registered_handlers(files):
    bad = _with_bpmn(files, 'serviceTaskOperator id="notify"', 'serviceTaskOperator id="os_system"')
    with pytest.raises(DefinitionError, match="not a registered handler"):
        build(bad)


def test_doctype_and_external_entities_are_refused(files):
    xxe = ('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
           + files["case_lifecycle.bpmn"].split("\n", 1)[1])
    with pytest.raises(DefinitionError, match="DOCTYPE"):
        build({**files, "case_lifecycle.bpmn": xxe})


def test_malicious_dmn_cells_are_refused(files):
    changed = dict(files)
    changed["dispatch.dmn"] = changed["dispatch.dmn"].replace('"water_supply"', "__import__('os').getcwd()", 1)
    with pytest.raises(DefinitionError, match="dispatch.dmn"):
        build(changed)


@pytest.mark.parametrize("text,message", [
    ("<not xml", "not well-formed"),
    ('<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
     'id="d" targetNamespace="x"><bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
     '</bpmn:process></bpmn:definitions>', "no user tasks"),
])
def test_malformed_bpmn_is_refused(text, message):
    with pytest.raises(DefinitionError, match=message):
        build({"x.bpmn": text})


def test_a_user_task_without_a_form_is_refused(files):
    bad = _with_bpmn(files, 'value="forms/close.form"', 'value="forms/missing.form"')
    with pytest.raises(DefinitionError, match="formKey"):
        build(bad)


def test_a_failed_deploy_writes_nothing(db, clock, files):
    bad = _with_bpmn(files, "returns += 1", "import os")
    with pytest.raises(DefinitionError), db.session() as s:
        deploy(s, bad, "d", clock.now())
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DefinitionVersion)) == 0


def test_expressions_fail_safely_at_run_time_too():
    from engine.expressions import ExpressionRefused, SafeEnvironment

    env = SafeEnvironment()
    with pytest.raises(ExpressionRefused):
        env.evaluate("x.__class__", {"x": 1})
    with pytest.raises(ExpressionRefused):
        env.execute("import os", {})
    assert env.evaluate("x + 1 if y == 'a' else 0", {"x": 1, "y": "a"}) == 2

"""Expressions are bounded in size (so in time) at deploy and at run time."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from engine.definitions import build, read_definition_files
from engine.errors import DefinitionError
from engine.expression_limits import ExpressionTooLarge
from engine.expressions import SafeEnvironment

ROOT = Path(__file__).resolve().parents[2]

EXPLODING = [
    "len(('a'*100000).replace('a','a'*100000))",  # issue 10: 10 GB behind simpleeval's string limit
    "len(''.join([('a'*99999)]*3))",
    "len(str([('a'*50000)]*50000))",
]


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return read_definition_files([ROOT / "bpmn"])


@pytest.mark.parametrize("condition", EXPLODING)
def test_a_deploy_refuses_an_exploding_condition_naming_the_element(files, condition):
    bpmn = files["case_lifecycle.bpmn"]
    old = "verdict == &apos;confirmed&apos;" if "verdict == &apos;" in bpmn else "verdict == 'confirmed'"
    with pytest.raises(DefinitionError) as err:
        build({**files, "case_lifecycle.bpmn": bpmn.replace(old, escape(condition), 1)})
    assert "Flow_gw_verified_to_accept" in str(err.value)
    assert "100,000" in str(err.value)


@pytest.mark.parametrize(("expression", "names"), [
    ("len(x.replace('a', 'a'*1000))", {"x": "a" * 1000}),
    ("''.join(x*50000)", {"x": ["ab" * 10]}),
    ("len(x * 2 + x)", {"x": list(range(40000))}),
    ("str(x)", {"x": [["a" * 1000] * 100] * 100}),
])
def test_run_time_refuses_values_past_the_bound(expression, names):
    with pytest.raises(ExpressionTooLarge):
        SafeEnvironment().evaluate(expression, names)


def test_ordinary_expressions_still_evaluate():
    env = SafeEnvironment()
    assert env.evaluate("len(x.replace('a', 'bb'))", {"x": "abc"}) == 4
    assert env.evaluate("', '.join(sorted(tags))", {"tags": ["b", "a"]}) == "a, b"

"""Size and time bounds of expression evaluation (engine.expressions), at deploy and at run time.

simpleeval limits string literals, ``*`` and ``+`` to 100,000 characters, but not what methods
return: ``('a'*100000).replace('a', 'a'*100000)`` asks for 10 GB. Here every intermediate value
is weighed (characters of strings, items of containers, counted through nesting, shared items
counted each time they appear) and refused above ``MAX_WEIGHT``; integers are bounded in bits;
the operations whose result can outgrow their inputs by a product (``replace``, ``**``) are
checked *before* they run. With no loops in the language (no comprehensions, no lambdas) and
expressions of at most ``MAX_EXPRESSION_CHARS``, every step is bounded, so evaluation time is too.

At deploy, the parts of an expression that use no variables are evaluated under the same bounds
(``check_constant_parts``), so a definition that would explode is refused before it runs.
"""

from __future__ import annotations

import ast
import math
from typing import Any

import simpleeval

from engine.errors import DefinitionError

MAX_WEIGHT = 100_000  # the same bound simpleeval puts on strings, applied to every intermediate value
MAX_INT_BITS = 4096
MAX_EXPRESSION_CHARS = 10_000


class ExpressionTooLarge(DefinitionError):
    """An expression's value (or one of its intermediate values) would exceed the bounds."""


def weight(value: Any, limit: int = MAX_WEIGHT) -> int:
    """Characters + items in ``value``, counting nested values; stops early above ``limit``."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, dict):
            total += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += len(item)
            stack.extend(item)
        else:
            total += 1
        if total > limit:
            return total
    return total


def check_value(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionTooLarge(f"a number in the expression exceeds {MAX_INT_BITS} bits")
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)) and weight(value) > MAX_WEIGHT:
        raise ExpressionTooLarge(f"a value in the expression exceeds {MAX_WEIGHT:,} characters or items")
    return value


def _bounded_power(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 \
            and b * math.log2(abs(a)) > MAX_INT_BITS:
        raise ExpressionTooLarge(f"{a} ** {b} exceeds {MAX_INT_BITS} bits")
    return simpleeval.safe_power(a, b)


def _bounded_replace(text: str, old: str, new: str, count: int = -1) -> str:
    hits = text.count(old) if old else len(text) + 1
    if count >= 0:
        hits = min(hits, count)
    if len(text) + hits * (len(new) - len(old)) > MAX_WEIGHT:
        raise ExpressionTooLarge(f"replace() would make a string longer than {MAX_WEIGHT:,} characters")
    return text.replace(old, new, count)


class BoundedEval(simpleeval.EvalWithCompoundTypes):
    """simpleeval with every intermediate value checked (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(operators={**simpleeval.DEFAULT_OPERATORS, ast.Pow: _bounded_power}, **kwargs)

    def _eval(self, node):
        return check_value(super()._eval(node))

    def _eval_call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "replace":
            target = self._eval(func.value)
            if isinstance(target, str):
                args = [self._eval(a) for a in node.args]
                return _bounded_replace(target, *args)
        return super()._eval_call(node)


def check_constant_parts(tree: ast.Expression, text: str, functions: dict[str, Any]) -> None:
    """Evaluate, under the bounds, the largest parts of ``tree`` that use no variables."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionTooLarge(f"expressions may be at most {MAX_EXPRESSION_CHARS:,} characters")
    evaluator = BoundedEval(names={}, functions=functions)
    pending: list[ast.AST] = [tree.body]
    while pending:
        node = pending.pop()
        if _uses_no_variables(node):
            try:
                evaluator.eval(text, previously_parsed=node)
            except ExpressionTooLarge as exc:
                raise ExpressionTooLarge(f"{exc} in {text[:200]!r}") from None
            except Exception:  # noqa: BLE001 - any other error depends on run-time data; checked then
                pass
        else:
            pending.extend(ast.iter_child_nodes(node))


def _uses_no_variables(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            return False  # a variable, or a function whose result may depend on the data
    return True

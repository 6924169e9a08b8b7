"""Safe evaluation of everything a BPMN or DMN file may compute.

SpiffWorkflow evaluates gateway conditions, timer expressions, DMN cells and scripts with
``eval``/``exec``. citycase replaces its script environment: expressions are checked by an
AST whitelist and evaluated by ``simpleeval`` (no imports, no dunder attributes, calls only to
functions registered in ``handlers``); scripts may only assign expressions to variables.
The same checks run at deploy time (``check_expression``/``check_script``) so that a
definition that tries to escape is refused with the element named, before anything runs.
"""

from __future__ import annotations

import ast
import threading
from collections import ChainMap
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import simpleeval
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.errors import DefinitionError
from engine.expression_limits import BoundedEval, ExpressionTooLarge, check_constant_parts

SAFE_BUILTINS: dict[str, Callable[..., Any]] = {
    "len": len, "min": min, "max": max, "abs": abs, "round": round, "sum": sum, "sorted": sorted,
    "str": str, "int": int, "float": float, "bool": bool, "any": any, "all": all,
}
# Method calls allowed on plain data (str, list, dict): read-only helpers only.
SAFE_METHODS = frozenset({
    "get", "keys", "values", "items", "lower", "upper", "strip", "startswith", "endswith",
    "split", "count", "index", "join", "replace", "isdigit",
})
FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "open", "globals", "locals", "vars", "getattr", "setattr",
    "delattr", "type", "object", "input", "help", "dir", "memoryview", "breakpoint",
    "classmethod", "staticmethod", "property", "super", "print", "exit", "quit",
})
_ALLOWED_NODES = (
    ast.Expression, ast.Expr, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp,
    ast.Call, ast.keyword, ast.Constant, ast.Name, ast.Load, ast.Attribute, ast.Subscript,
    ast.Slice, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Eq, ast.NotEq, ast.Lt,
    ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.JoinedStr, ast.FormattedValue,
)


class ExpressionRefused(DefinitionError):
    pass


def _functions() -> dict[str, Callable[..., Any]]:
    from engine.servicelog import expression_functions

    return {**SAFE_BUILTINS, **expression_functions()}


def _data_readers() -> frozenset[str]:
    from handlers import REGISTRY

    return frozenset(name for name, spec in REGISTRY.items() if spec.reads_data)


def _check_tree(tree: ast.AST, text: str, functions: frozenset[str]) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionRefused(f"{type(node).__name__} is not allowed in {text!r}")
        if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in FORBIDDEN_NAMES):
            raise ExpressionRefused(f"name {node.id!r} is not allowed in {text!r}")
        if isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr not in SAFE_METHODS):
            raise ExpressionRefused(f"attribute {node.attr!r} is not allowed in {text!r}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value:
            raise ExpressionRefused(f"strings with '__' are not allowed in {text!r}")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                if func.id not in functions:
                    raise ExpressionRefused(f"function {func.id!r} is not a registered handler in {text!r}")
            elif not isinstance(func, ast.Attribute):
                raise ExpressionRefused(f"only named functions may be called in {text!r}")


@lru_cache(maxsize=4096)
def _parsed_expression(text: str) -> ast.Expression:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionRefused(f"not a valid expression: {text!r} ({exc.msg})") from None
    functions = _functions()
    _check_tree(tree, text, frozenset(functions))
    try:
        check_constant_parts(tree, text, functions)  # bounded in size, so in time (engine.expression_limits)
    except ExpressionTooLarge as exc:
        raise ExpressionRefused(str(exc)) from None  # refused like any unsafe expression, element named
    return tree


def check_expression(text: str) -> None:
    """Raise ExpressionRefused unless ``text`` is a safe expression."""
    _parsed_expression(text)


@lru_cache(maxsize=1024)
def _parsed_script(text: str) -> tuple[tuple[str, str, ast.Expression], ...]:
    try:
        module = ast.parse(text)
    except SyntaxError as exc:
        raise ExpressionRefused(f"not a valid script ({exc.msg} on line {exc.lineno})") from None
    steps: list[tuple[str, str, ast.Expression]] = []
    for stmt in module.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target, op = stmt.targets[0].id, "="
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) \
                and isinstance(stmt.op, (ast.Add, ast.Sub)):
            target, op = stmt.target.id, "+=" if isinstance(stmt.op, ast.Add) else "-="
        else:
            raise ExpressionRefused(
                f"scripts may only assign expressions to variables (line {stmt.lineno}: "
                f"{ast.get_source_segment(text, stmt)!r})")
        if target.startswith("_") or target in FORBIDDEN_NAMES:
            raise ExpressionRefused(f"variable name {target!r} is not allowed")
        expr_text = ast.get_source_segment(text, stmt.value) or ""
        steps.append((target, op, _parsed_expression(expr_text)))
    return tuple(steps)


def check_script(text: str) -> None:
    _parsed_script(text)


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """The script environment SpiffWorkflow's script engine delegates to."""

    def __init__(self) -> None:
        super().__init__({})
        self._local = threading.local()
        self._functions = {name: self._with_data(func) if name in _data_readers() else func
                           for name, func in _functions().items()}

    def _with_data(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` sees the evaluated expression's names as its task's data (handlers.context)."""
        from handlers.context import using_task_data

        def call(*args: Any, **kwargs: Any) -> Any:
            with using_task_data(self._local.evaluator.names):
                return func(*args, **kwargs)

        return call

    def _evaluator(self, names) -> simpleeval.EvalWithCompoundTypes:
        # One evaluator per thread, reused: building one costs more than most evaluations.
        evaluator = getattr(self._local, "evaluator", None)
        if evaluator is None:
            evaluator = BoundedEval(names={}, functions=self._functions)
            self._local.evaluator = evaluator
        evaluator.names = names
        return evaluator

    def evaluate(self, expression, context, external_context=None):
        tree = _parsed_expression(expression)
        names = ChainMap(external_context, context) if external_context else context
        return self._evaluator(names).eval(expression, previously_parsed=tree.body)

    def execute(self, script, context, external_context=None):
        for target, op, tree in _parsed_script(script):
            names = ChainMap(external_context, context) if external_context else context
            value = self._evaluator(names).eval(script, previously_parsed=tree.body)
            if op == "=":
                context[target] = value
            elif op == "+=":
                context[target] = context.get(target, 0) + value
            else:
                context[target] = context.get(target, 0) - value
        return True

    def call_service(self, context, **kwargs):  # pragma: no cover - the engine overrides call_service
        raise NotImplementedError

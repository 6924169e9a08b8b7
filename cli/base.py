"""The ``citycase`` click group and what every subcommand shares: its context, output and errors.

Subcommand modules (cli/db.py, cli/cases.py, …) attach themselves to ``cli``; ``cli/__init__.py``
imports them all and holds the console-script entry point.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, NoReturn

import click

from engine.config import load_config


@dataclass
class CliContext:
    config: dict[str, Any]
    as_json: bool = False
    _factory: Any = field(default=None, repr=False)

    @property
    def session_factory(self):
        if self._factory is None:
            from engine.db import make_engine, session_factory

            self._factory = session_factory(make_engine(self.config["DATABASE_URL"]))
        return self._factory


def emit(ctx: CliContext, payload: Any, text: str | None = None) -> None:
    """Print JSON with --json, else the human text (or JSON when no text is given)."""
    if ctx.as_json or text is None:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=None if ctx.as_json else 2, default=str))
    else:
        click.echo(text)


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group()
@click.option("--database-url", envvar="CITYCASE_DATABASE_URL", help="SQLAlchemy URL (default: instance/ SQLite)")
@click.option("--json", "as_json", is_flag=True, help="machine-readable JSON output")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, as_json: bool) -> None:
    """citycase — digital urban management case system."""
    from engine.db import DatabaseUrlError, check_url

    overrides = {"DATABASE_URL": database_url} if database_url else {}
    ctx.obj = CliContext(config=load_config(overrides), as_json=as_json)
    try:
        check_url(ctx.obj.config["DATABASE_URL"])  # a clear message instead of a traceback later
    except DatabaseUrlError as exc:
        fail(str(exc), 2)


def json_option(f):
    """Allow --json after the subcommand too (``citycase seed demo --json``)."""

    def callback(ctx: click.Context, _param, value: bool) -> bool:
        obj = ctx.find_object(CliContext)
        if value and obj is not None:
            obj.as_json = True
        return value

    return click.option("--json", "as_json_sub", is_flag=True, expose_value=False, callback=callback,
                        help="machine-readable JSON output")(f)


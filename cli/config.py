"""``citycase config``: every setting with its environment variable, default and value in effect.

``--markdown`` prints the reference table of docs/configuration.md (a test keeps the file in step),
so the operator's manual never lists a key that does not exist or misses one that does.
"""

from __future__ import annotations

from typing import Any

import click

from cli.base import CliContext, cli, emit, json_option
from engine.config import PROJECT_ROOT, SETTINGS, load_config

_SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD")


def _shown(key: str, value: Any) -> str:
    if any(word in key for word in _SECRET_WORDS) and value:
        return "(set)"
    return str(value).replace(str(PROJECT_ROOT), "<citycase>")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    lines = ["| key | environment variable | default | what it does |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = _shown(s.key, s.default)
        lines.append(f"| `{s.key}` | `{s.env}` | {_cell(f'`{default}`' if default else '(empty)')} | {_cell(s.help)} |")
    return "\n".join(lines) + "\n"


@cli.command("config")
@click.option("--markdown", "as_markdown", is_flag=True, help="the reference table of docs/configuration.md")
@json_option
@click.pass_obj
def config_cmd(ctx: CliContext, as_markdown: bool) -> None:
    """Show every setting: environment variable, default and the value in effect (secrets hidden)."""
    if as_markdown:
        click.echo(markdown(), nl=False)
        return
    current = load_config()
    rows = [{"key": s.key, "env": s.env, "value": _shown(s.key, current[s.key]),
             "default": _shown(s.key, s.default)} for s in SETTINGS]
    emit(ctx, rows, "\n".join(f"{r['key']:<28} {r['value']:<40} ({r['env']})" for r in rows))

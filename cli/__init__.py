"""The ``citycase`` command line: every operator command in one package.

The CLI imports the engine, the web app (serve) and bench/; none of them imports the CLI.
"""

from __future__ import annotations

from cli import apikey, audit, bench, calendar, cases, db, evaluate, export, ops, scheduler, seed, serve, users  # noqa: F401,E501  (attach commands)
from cli.base import cli


def main() -> None:
    cli()

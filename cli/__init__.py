"""The ``citycase`` command line: every operator command in one package.

The CLI imports the engine, the web app (serve) and bench/; none of them imports the CLI.
"""

from __future__ import annotations

from cli import (  # noqa: F401  (attach commands)
    apikey,
    audit,
    bench,
    calendar,
    cases,
    config,
    db,
    definitions,
    devices,
    evaluate,
    export,
    followup,
    notify,
    ops,
    patrol,
    scheduler,
    seed,
    serve,
    uploads,
    users,
)
from cli.base import cli


def main() -> None:
    cli()

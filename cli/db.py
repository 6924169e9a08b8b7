"""``citycase db upgrade``."""

from __future__ import annotations

import click

from cli.base import CliContext, cli, emit, json_option
from engine.db import normalize_url, upgrade


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@json_option
@click.pass_obj
def db_upgrade(ctx: CliContext) -> None:
    """Create or migrate the schema to the newest revision."""
    url = ctx.config["DATABASE_URL"]
    upgrade(url)
    emit(ctx, {"database": normalize_url(url).split("@")[-1], "revision": "head"}, "database is up to date")

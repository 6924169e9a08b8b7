"""``citycase uploads collect``: delete photos uploaded ahead that no report or task ever used."""

from __future__ import annotations

from datetime import timedelta

import click

from cli.base import CliContext, cli, emit, fail, json_option
from engine.clock import SystemClock
from engine.db import transaction
from engine.uploads import collect_orphans


@cli.group("uploads")
def uploads_group() -> None:
    """Uploaded photos."""


@uploads_group.command("collect")
@click.option("--hours", type=float, default=24.0, show_default=True,
              help="grace period: unbound uploads younger than this are kept")
@json_option
@click.pass_obj
def collect(ctx: CliContext, hours: float) -> None:
    """Delete uploads that no command referred to within the grace period."""
    if hours < 0:
        fail("--hours must not be negative", 2)
    with transaction(ctx.session_factory) as s:
        removed = collect_orphans(s, SystemClock().now(), timedelta(hours=hours))
    emit(ctx, {"removed": removed}, f"removed {removed} unused upload(s)")

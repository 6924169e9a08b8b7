"""``citycase apikey create|list|revoke``: Open311 API keys."""

from __future__ import annotations

from typing import Any

import click

from cli.base import CliContext, cli, emit, fail, json_option
from engine.db import transaction
from engine.errors import CityCaseError


@cli.group()
def apikey() -> None:
    """Open311 API keys (only a hash is stored: a key is shown once, when it is created)."""


@apikey.command("create")
@click.argument("name")
@json_option
@click.pass_obj
def apikey_create(ctx: CliContext, name: str) -> None:
    """Issue a key named NAME (e.g. the client app) and print it once."""
    from engine.apikeys import create_key
    from engine.clock import SystemClock

    try:
        with transaction(ctx.session_factory) as s:
            row, plaintext = create_key(s, name, SystemClock().now())
            key_id, key_name = row.id, row.name
    except CityCaseError as exc:
        fail(str(exc))
        return
    emit(ctx, {"id": key_id, "name": key_name, "key": plaintext},
         f"API key {key_id} ({key_name}):\n{plaintext}\n"
         "Store it now: it cannot be shown again (only its hash is kept).")


@apikey.command("list")
@json_option
@click.pass_obj
def apikey_list(ctx: CliContext) -> None:
    """List keys (names and state; never the keys themselves)."""
    from engine.apikeys import list_keys

    with transaction(ctx.session_factory) as s:
        rows: list[dict[str, Any]] = [{"id": k.id, "name": k.name, "created_at": k.created_at.isoformat(), "active": k.active}
                for k in list_keys(s)]
    lines = [f"{r['id']:>4}  {'active ' if r['active'] else 'revoked'}  {r['created_at'][:19]}  {r['name']}"
             for r in rows]
    emit(ctx, rows, "\n".join(lines) if lines else "no API keys")


@apikey.command("revoke")
@click.argument("key_id", type=int)
@json_option
@click.pass_obj
def apikey_revoke(ctx: CliContext, key_id: int) -> None:
    """Revoke key KEY_ID: requests with it are refused from now on."""
    from engine.apikeys import revoke

    try:
        with transaction(ctx.session_factory) as s:
            row = revoke(s, key_id)
            result = {"id": row.id, "name": row.name, "active": row.active}
    except CityCaseError as exc:
        fail(str(exc))
        return
    emit(ctx, result, f"API key {result['id']} ({result['name']}) revoked")

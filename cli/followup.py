"""Duplicates and reopening from the command line: ``merge`` and ``reopen`` (engine.commands.followup)."""

from __future__ import annotations

import click
from sqlalchemy import select

from cli.base import CliContext, cli, emit, fail, json_option
from cli.cases import _actor, _ctx, _run
from engine.db import transaction
from engine.models import Case


def _case_id(session, number: str) -> int:
    case_id = session.scalar(select(Case.id).where(Case.number == number))
    if case_id is None:
        fail(f"case {number} does not exist; see `citycase tasks --case N` or the case search page")
    return int(case_id)


@cli.command()
@click.argument("duplicate")
@click.argument("original")
@click.option("--user", "username", required=True, help="the acceptor or shift leader who merges")
@click.option("--reason", required=True, help="why it is the same problem (1–500 characters)")
@json_option
@click.pass_obj
def merge(ctx: CliContext, duplicate: str, original: str, username: str, reason: str) -> None:
    """Merge the open case DUPLICATE into the open case ORIGINAL (its reporter follows ORIGINAL)."""
    from engine.commands import merge_case

    def go():
        with transaction(ctx.session_factory) as s:
            return merge_case(s, _ctx(ctx), _case_id(s, duplicate), original, _actor(s, username), reason).as_dict()

    out = _run(go)
    emit(ctx, out, f"case {duplicate} merged into {original}")


@cli.command()
@click.argument("number")
@click.option("--user", "username", required=True, help="the acceptor or shift leader who records it")
@click.option("--reason", required=True, help="what is still wrong (1–500 characters)")
@json_option
@click.pass_obj
def reopen(ctx: CliContext, number: str, username: str, reason: str) -> None:
    """Reopen a case closed in the last days (engine.commands.followup.REOPEN_DAYS): a new round."""
    from engine.commands import reopen_case

    def go():
        with transaction(ctx.session_factory) as s:
            return reopen_case(s, _ctx(ctx), _case_id(s, number), _actor(s, username), reason, "phone").as_dict()

    out = _run(go)
    emit(ctx, out, f"case {number} reopened; it is {out['status']} and goes to dispatch again")

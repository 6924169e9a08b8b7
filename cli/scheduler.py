"""``citycase scheduler [--once]``: fire due timers and deliver the outbox.

Several scheduler processes (and the web app's built-in one, CITYCASE_SCHEDULER=true) may run
against the same database at once: each timer fires exactly once.
"""

from __future__ import annotations

import click

from cli.base import CliContext, cli, emit, fail, json_option
from engine.clock import SystemClock


def _summary(counts: dict[str, int]) -> str:
    text = (f"fired {counts['fired']} case(s), skipped {counts['skipped']}; "
            f"outbox: delivered {counts['delivered']}, failed {counts['failed']}")
    if counts.get("checkpoints"):
        text += "; signed a checkpoint of the event log"
    if counts.get("snapshots"):
        text += "; froze last month's evaluation"
    if counts.get("silent"):
        text += f"; {counts['silent']} silent device(s) got a maintenance case"
    if counts.get("errors"):
        text += f"; {counts['errors']} case(s) raised errors (see the log), retried next tick"
    return text


@cli.command("scheduler")
@click.option("--once", is_flag=True, help="run one tick, print its counts and exit")
@json_option
@click.pass_obj
def scheduler_command(ctx: CliContext, once: bool) -> None:
    """Fire due timers (warnings, overdue escalations) and deliver the outbox.

    Without --once, tick every CITYCASE_SCHEDULER_TICK seconds until Ctrl-C, printing a line
    for each tick that did some work.
    """
    import logging

    from engine.logs import configure_logging
    from engine.notify.channels import ChannelSettings
    from engine.outbox import get_sender
    from engine.scheduler import did_work, run_forever, tick

    configure_logging(ctx.config["LOG_FORMAT"])  # text, or JSON lines naming each case (LOG_FORMAT)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per job run
    config = ctx.config
    try:
        sender = get_sender(config.get("OUTBOX_SENDER") or "log")
        channels = ChannelSettings.from_config(config)
    except ValueError as exc:
        fail(str(exc))
    if config["SCHEDULER_TICK_SECONDS"] <= 0:
        fail("CITYCASE_SCHEDULER_TICK must be a positive number of seconds")
    clock = SystemClock()
    if once:
        from engine.audit.checkpoints import CheckpointPolicy
        from engine.exchange.peers import peers_from_config
        from engine.model import EngineContext

        try:
            peers = peers_from_config(config)
        except ValueError as exc:
            fail(str(exc))
        counts = tick(ctx.session_factory, EngineContext.from_config(config, clock), sender=sender,
                      checkpoints=CheckpointPolicy.from_config(config), snapshots=True, devices=True,
                      channels=channels, exchange=peers)
        emit(ctx, counts, _summary(counts))
        return

    def on_tick(counts: dict[str, int]) -> None:
        if did_work(counts):
            emit(ctx, {"at": clock.now().isoformat(timespec="seconds"), **counts},
                 f"{clock.now():%Y-%m-%d %H:%M:%S}Z {_summary(counts)}")

    if not ctx.as_json:
        click.echo(f"scheduler running every {config['SCHEDULER_TICK_SECONDS']:g} s; Ctrl-C to stop", err=True)
    run_forever(config, clock, on_tick)
    if not ctx.as_json:
        click.echo("scheduler stopped", err=True)

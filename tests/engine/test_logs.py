"""Operator logs: routine library chatter stays below what an operator reads."""

from __future__ import annotations

import io
import logging

from engine.logs import configure_logging


def test_scheduler_ticks_and_migration_plugins_do_not_flood_the_log():
    out = io.StringIO()
    handler = configure_logging("text", stream=out)
    try:
        logging.getLogger("apscheduler.executors.default").info("Running job every 5 s")
        logging.getLogger("alembic.runtime.plugins").info("setup plugin")
        logging.getLogger("apscheduler.scheduler").warning("job missed its run time")
        logging.getLogger("citycase.scheduler").info("scheduler tick: fired 1")
    finally:
        logging.getLogger().removeHandler(handler)
    text = out.getvalue()
    assert "Running job" not in text and "setup plugin" not in text
    assert "job missed its run time" in text and "scheduler tick: fired 1" in text

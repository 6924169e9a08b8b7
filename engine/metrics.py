"""Prometheus metrics: what the command frame counts, and what a scrape reads from the database.

Process metrics (``citycase_commands_total``, ``citycase_command_duration_seconds``) are
updated by engine.commands.frame around every command. The state of the city — open tasks by
light, due timers, the outbox backlog and the scheduler's lag — is not kept in the process: a
scrape reads it from the database (``StateCollector``), so every worker reports the same numbers
and nothing drifts after a restart.

Under gunicorn each worker is a process of its own: ``citycase serve`` turns on
prometheus_client's multiprocess mode (``enable_multiprocess``) before the workers fork, so a
scrape answered by any worker adds up the counters of all of them.
"""

from __future__ import annotations

import os
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.model import Light
from engine.models import Deadline, Outbox
from engine.queries.lights import light_conditions

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: The process's own metrics; not prometheus_client's global registry, which other libraries share.
PROCESS = CollectorRegistry(auto_describe=True)


class Command(StrEnum):
    """The commands, as the metrics name them (the engine.commands function names)."""

    START_CASE = "start_case"
    CLAIM = "claim"
    RELEASE = "release"
    ASSIGN = "assign"
    COMPLETE_TASK = "complete_task"
    FIRE_TIMERS = "fire_timers"
    SUPERVISE = "supervise"
    RATE_CASE = "rate_case"
    ERASE_REPORTER = "erase_reporter"
    CORRECT_CASE = "correct_case"
    RECORD_OBSERVATION = "record_observation"  # a device observation noted on an open case
    DEVICE_NORMAL = "device_normal"  # a device back to normal: the device_normal message (a check task)
    MERGE_CASE = "merge_case"  # a duplicate merged into its original
    REOPEN_CASE = "reopen_case"  # a closed case reopened


class CommandOutcome(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    ERROR = "error"


COMMANDS = Counter("citycase_commands", "Commands run, by command and outcome", ["command", "outcome"],
                   registry=PROCESS)
COMMAND_SECONDS = Histogram("citycase_command_duration_seconds", "Time a command takes inside its frame",
                            ["command"], registry=PROCESS,
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


def outcome_of(exc: BaseException | None) -> CommandOutcome:
    if exc is None:
        return CommandOutcome.OK
    for kind, outcome in ((ValidationError, CommandOutcome.INVALID), (NotFound, CommandOutcome.NOT_FOUND),
                          (Forbidden, CommandOutcome.FORBIDDEN), (Conflict, CommandOutcome.CONFLICT)):
        if isinstance(exc, kind):
            return outcome
    return CommandOutcome.ERROR


def observe_command(command: Command, exc: BaseException | None, seconds: float) -> None:
    COMMANDS.labels(command.value, outcome_of(exc).value).inc()
    COMMAND_SECONDS.labels(command.value).observe(seconds)


def enable_multiprocess(directory: Path) -> None:
    """Share the process metrics of forked workers through files in ``directory`` (emptied first).

    Call before the workers fork and before any command runs in this process: the metrics'
    labelled values are created on first use with the value class chosen here.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # a previous server's counters must not be added in
        stale.unlink()
    os.environ[_MULTIPROC_ENV] = str(directory)
    values.ValueClass = values.get_value_class()


class StateCollector(Collector):
    """Gauges read from the database at scrape time, one short read-only session per scrape."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self.factory = factory
        self.clock = clock

    def collect(self):
        now = self.clock.now()
        with self.factory() as s:
            lights = _open_tasks_by_light(s, now)
            due, oldest_due = s.execute(select(func.count(), func.min(Deadline.due_at))
                                        .where(Deadline.due_at <= now)).one()
            backlog = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.delivered_at.is_(None))) or 0
        tasks = GaugeMetricFamily("citycase_open_tasks", "Open tasks by deadline light", labels=["light"])
        for light in Light:
            tasks.add_metric([light.value], lights.get(light, 0))
        yield tasks
        yield GaugeMetricFamily("citycase_timers_due", "Timers whose instant has passed and that have not fired",
                                value=due)
        lag = (now - _aware(oldest_due, now)).total_seconds() if oldest_due is not None else 0.0
        yield GaugeMetricFamily("citycase_scheduler_lag_seconds",
                                "How long the oldest due timer has waited for the scheduler", value=max(lag, 0.0))
        yield GaugeMetricFamily("citycase_outbox_backlog", "Outbox messages not yet delivered", value=backlog)


def _open_tasks_by_light(session: Session, now: datetime) -> dict[Light, int]:
    """One grouped query over the task table, with the lights' own SQL conditions."""
    conditions = light_conditions(now)
    light = case((conditions[Light.RED], Light.RED.value), (conditions[Light.YELLOW], Light.YELLOW.value),
                 else_=Light.GREEN.value)
    return {Light(name): n for name, n in session.execute(select(light, func.count()).group_by(light))}


def _aware(value: datetime, like: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=like.tzinfo)


def render(factory: sessionmaker[Session], clock: Clock) -> bytes:
    """The Prometheus text exposition of the process (or all workers') metrics and the city's state."""
    if os.environ.get(_MULTIPROC_ENV):
        process = CollectorRegistry()
        MultiProcessCollector(process)
    else:
        process = PROCESS
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector(factory, clock))
    return generate_latest(process) + generate_latest(state)

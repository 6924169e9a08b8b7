"""``citycase serve``: the web app under gunicorn, with the scheduler once in the master process."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from cli.base import CliContext, cli, fail


def _bind(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6
    return f"{host}:{port}"


def _app_factory(database_url: str):
    def load():
        from web import create_app

        # The workers never run the scheduler: the master does (once), see serve().
        return create_app({"DATABASE_URL": database_url, "SCHEDULER_ENABLED": False})

    return load


def _metrics_dir() -> Path | None:
    """Workers share their /metrics counters through files (prometheus_client's multiprocess mode).

    In PROMETHEUS_MULTIPROC_DIR when the operator set it, else in a fresh temporary folder that
    is removed when the server stops (returned so that it can be).
    """
    from engine.metrics import enable_multiprocess

    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="citycase-metrics-"))
    enable_multiprocess(folder)
    return None if given else folder


def _start_scheduler(config: dict[str, Any]) -> Any:
    from engine.scheduler import start_background

    return start_background(dict(config))


def make_server(app_factory, options: dict[str, Any], on_ready=None, on_fork=None, on_exit=None):
    """A gunicorn application (its Python API) serving ``app_factory()`` with ``options``."""
    from gunicorn.app.base import BaseApplication

    class CityCaseServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key, value)
            if on_ready is not None:
                self.cfg.set("when_ready", lambda server: on_ready())
            if on_fork is not None:
                self.cfg.set("post_fork", lambda server, worker: on_fork())
            if on_exit is not None:
                self.cfg.set("on_exit", lambda server: on_exit())

        def load(self):
            return app_factory()

    return CityCaseServer()


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="worker processes")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="threads per worker")
@click.option("--no-scheduler", is_flag=True,
              help="do not run timers and the outbox here (run `citycase scheduler` elsewhere)")
@click.option("--access-log", is_flag=True, help="log every request to stderr")
@click.pass_obj
def serve(ctx: CliContext, host: str, port: int, workers: int, threads: int, no_scheduler: bool,
          access_log: bool) -> None:
    """Run the web app under gunicorn (and the scheduler once, in the master process)."""
    config = dict(ctx.config)
    from engine.notify.channels import ChannelSettings

    try:  # a channel misconfigured is said before serving, not as a traceback in the scheduler
        ChannelSettings.from_config(config)
    except ValueError as exc:
        fail(str(exc))
    holder: dict[str, Any] = {}
    metrics_dir = _metrics_dir()

    def ready() -> None:
        # In the gunicorn master, after binding and before the workers fork.
        if not no_scheduler:
            holder["scheduler"] = _start_scheduler(config)
            if holder["scheduler"] is not None:
                click.echo(f"citycase: scheduler running in the master process "
                           f"(tick {config.get('SCHEDULER_TICK_SECONDS')} s)", err=True)

    def forked() -> None:
        # A worker must not use (or close) the master's scheduler connections inherited by fork.
        engine = getattr(holder.get("scheduler"), "citycase_engine", None)
        if engine is not None:
            engine.dispose(close=False)

    def stopping() -> None:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        scheduler = holder.pop("scheduler", None)
        if scheduler is not None:
            scheduler.shutdown(wait=True)
            engine = getattr(scheduler, "citycase_engine", None)
            if engine is not None:
                engine.dispose()

    from engine.logs import configure_logging

    configure_logging(config["LOG_FORMAT"])
    options = {"bind": _bind(host, port), "workers": workers, "threads": threads,
               "worker_class": "gthread" if threads > 1 else "sync", "accesslog": "-" if access_log else None,
               "errorlog": "-", "proc_name": "citycase", "timeout": 60, "graceful_timeout": 20,
               # gunicorn ≥ 25 opens a control socket at one fixed path per user: two servers would clash.
               "control_socket_disable": True}
    click.echo(f"citycase: serving on http://{_bind(host, port)}/ ({workers} workers × {threads} threads, "
               f"scheduler {'off' if no_scheduler else 'on'}); Ctrl-C stops")
    try:
        make_server(_app_factory(config["DATABASE_URL"]), options, ready, forked, stopping).run()
    except SystemExit:
        raise
    except Exception as exc:  # gunicorn reports bind errors etc. itself; keep the CLI's error format
        fail(f"the server stopped: {exc}")


__all__ = ["serve", "make_server"]

"""Console entry point: the engine's CLI plus the commands that need the web app."""

from __future__ import annotations

from engine.cli import cli, register_all


def main() -> None:
    register_all()
    try:
        import web.commands  # noqa: F401  (serve, apikey)
    except ModuleNotFoundError as exc:
        if exc.name != "web.commands":
            raise
    cli()


if __name__ == "__main__":
    main()

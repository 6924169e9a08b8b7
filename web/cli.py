"""Console entry point: the engine's CLI plus the commands that need the web app."""

from __future__ import annotations

from engine.cli import cli, register_all


def main() -> None:
    register_all()
    import bench.cli  # noqa: F401  (bench)
    import web.commands  # noqa: F401  (serve, apikey)

    cli()


if __name__ == "__main__":
    main()

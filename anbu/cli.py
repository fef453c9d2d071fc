"""The `anbu` command. Each domain package contributes its commands here; nothing runs at import."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="anbu",
    help="anbu (안부): IoT monitoring for people who live alone.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database: migrations and status.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks; each prints one JSON object.", no_args_is_help=True)
import_app = typer.Typer(help="Import real sensor logs as recordings.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")
app.add_typer(import_app, name="import")


def _register() -> None:
    # Imported here, not at module top, so `anbu --help` stays fast and nothing heavy runs
    # at import time of anbu.cli.
    from anbu import commands
    from ingest import commands as ingest_commands

    commands.register(app, db_app, bench_app)
    ingest_commands.register(app, bench_app)
    # Packages still being built register themselves once they have commands.
    for name in ("simulators", "detectors", "alerts", "dashboard"):
        try:
            module = importlib.import_module(f"{name}.commands")
        except ModuleNotFoundError as e:
            if e.name not in (name, f"{name}.commands"):
                raise
            continue
        module.register(app=app, bench_app=bench_app, import_app=import_app)


def main() -> None:
    _register()
    app()

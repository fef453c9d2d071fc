"""The `anbu` command. Each domain package contributes its commands here; nothing runs at import."""

from __future__ import annotations

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
    try:
        from simulators import commands as sim_commands  # type: ignore[import-not-found,attr-defined,unused-ignore]
    except ImportError:  # pragma: no cover - during bootstrap only
        return
    sim_commands.register(app, bench_app, import_app)


def main() -> None:
    _register()
    app()

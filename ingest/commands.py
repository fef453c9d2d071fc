"""`anbu ingest` and `anbu bench ingest`."""

from __future__ import annotations

import json
import logging
import signal
import threading

import typer

from anbu.settings import Settings


def _tune_gc() -> None:
    """A dedicated ingest worker allocates a few objects per reading and frees them within a
    batch, with no reference cycles: Python's default collector (a young-generation pass every
    700 allocations, over everything still queued) is several percent of its CPU. Collect less
    often, and never walk what start-up left behind (modules, settings)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd() -> None:
        """Run an ingest worker: MQTT in, PostgreSQL out (configure with ANBU_* variables)."""
        from anbu.runtime import endpoints, ingest_config
        from anbu.storage.db import connect
        from anbu.storage.migrate import migrate
        from ingest.service import Ingester

        settings = Settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with endpoints(settings) as ep:
            with connect(ep.database_url) as conn:
                migrate(conn)
            _tune_gc()
            Ingester(ingest_config(settings, ep.database_url, ep.mqtt_url)).run_until(stop)

    @bench_app.command("ingest")
    def bench_ingest_cmd(
        messages: int = typer.Option(100_000, help="Messages to publish."),
        batch: int = typer.Option(1, help="Readings per message (gateway batches when > 1)."),
        households: int = typer.Option(1_000, help="Distinct households in the stream."),
        database_url: str = typer.Option(
            "",
            help="Server to benchmark on (default: settings, then 127.0.0.1:5432, then embedded).",
        ),
        mqtt_url: str = typer.Option(
            "", help="Broker (default: settings, then 127.0.0.1:1883, then a private one)."
        ),
        workers: int = typer.Option(1, help="Ingest worker processes in one shared group."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Readings/s from a separate publisher process to committed rows, against ceilings."""
        from ingest.bench import run

        result = run(messages, batch, households, database_url or None, mqtt_url or None, workers)
        typer.echo(json.dumps(result) if json_out else json.dumps(result, indent=2))

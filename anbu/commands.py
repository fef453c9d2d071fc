"""Kernel commands: `anbu db …` and `anbu demo`."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time

import typer

from anbu.settings import Settings


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def register(app: typer.Typer, db_app: typer.Typer, bench_app: typer.Typer) -> None:
    @db_app.command("migrate")
    def migrate_cmd() -> None:
        """Apply pending migrations (TimescaleDB parts only where the extension exists)."""
        from anbu.runtime import endpoints
        from anbu.storage.db import connect
        from anbu.storage.migrate import migrate

        settings = Settings()
        _setup_logging(settings)
        with endpoints(settings, broker=False) as ep, connect(ep.database_url) as conn:
            res = migrate(conn)
        typer.echo(
            json.dumps(
                {"timescale": res.timescale, "applied": res.applied, "version": res.current_version}
            )
        )

    @db_app.command("status")
    def status_cmd() -> None:
        """Schema version, storage flavour and row counts."""
        from anbu.runtime import endpoints
        from anbu.storage.db import connect

        settings = Settings()
        with endpoints(settings, broker=False) as ep, connect(ep.database_url) as conn:
            version = conn.execute(
                "SELECT coalesce(max(version), 0), bool_or(variant = 'timescale')"
                " FROM schema_migrations"
            ).fetchone()
            counts = {
                t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                for t in ("households", "devices", "readings", "dead_letters")
            }
        typer.echo(
            json.dumps(
                {
                    "version": version[0] if version else 0,
                    "timescale": bool(version and version[1]),
                    **counts,
                }
            )
        )

    @app.command("demo")
    def demo_cmd(
        households: int = typer.Option(60, help="Households in the demo district."),
        seed: int = typer.Option(1, help="Seed for the district and its residents."),
        duration: float = typer.Option(0, help="Stop after this many seconds (0: until Ctrl-C)."),
    ) -> None:
        """Run the whole system on this machine: embedded database and broker where unset."""
        from anbu.demo import demo_district
        from anbu.demo import seed as seed_district
        from anbu.runtime import endpoints, ingest_config
        from anbu.storage.db import connect
        from anbu.storage.migrate import migrate
        from ingest.service import Ingester

        settings = Settings()
        _setup_logging(settings)
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with endpoints(settings) as ep:
            with connect(ep.database_url) as conn:
                migrate(conn)
                seed_district(conn, demo_district(households, seed))
                conn.commit()
            ing = Ingester(ingest_config(settings, ep.database_url, ep.mqtt_url))  # type: ignore[arg-type]
            ing.start()
            typer.echo(f"anbu demo: {households} households in 성동구 (Seongdong-gu)")
            typer.echo(
                f"  database: {ep.database_url}{' (embedded)' if ep.embedded_database else ''}"
            )
            embedded_broker = " (embedded)" if ep.embedded_broker else ""
            typer.echo(f"  MQTT:     {ep.mqtt_url} (MQTT {ing.protocol}){embedded_broker}")
            typer.echo("  publish readings to anbu/v1/{household}/{device}/{kind}; Ctrl-C stops.")
            t0 = time.monotonic()
            try:
                while not stop.wait(10 if duration == 0 else min(10, duration)):
                    s = ing.stats
                    typer.echo(f"  ingested {s.inserted} readings, {s.dead_letters} dead letters")
                    if duration and time.monotonic() - t0 >= duration:
                        break
            finally:
                ing.stop()

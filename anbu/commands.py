"""Kernel commands: `anbu db …` and `anbu demo`."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from typing import Any

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

    @app.command("run")
    def run_cmd() -> None:
        """Run anbu: ingest, detection, alerting and the web application (ANBU_* settings)."""
        from anbu.runtime import endpoints
        from anbu.system import System

        settings = Settings()
        _setup_logging(settings)
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with endpoints(settings) as ep:
            system = System(settings, ep.database_url, ep.mqtt_url)
            system.start()
            web = f"http://{_browsable(settings.http_host)}:{settings.http_port}"
            typer.echo(f"anbu running: dashboard {web}/, API {web}/docs")
            try:
                stop.wait()
            finally:
                system.stop()

    @app.command("demo")
    def demo_cmd(
        households: int = typer.Option(60, help="Households in the demo district."),
        seed: int = typer.Option(1, help="Seed for the district and its residents."),
        duration: float = typer.Option(0, help="Stop after this many seconds (0: until Ctrl-C)."),
        speed: float = typer.Option(
            60.0,
            help="How fast the recent past is replayed before "
            "the district goes live (60: an hour a minute).",
        ),
        history_days: float = typer.Option(2.0, help="Days of recent history to replay."),
        open_browser: bool = typer.Option(
            True, "--open/--no-open", help="Open the dashboard in a browser, if there is a screen."
        ),
    ) -> None:
        """Run the whole system on this machine and open its dashboard (embedded database and
        broker where unset)."""
        from anbu.demo import DEMO_PASSWORD, demo_district
        from anbu.demo import seed as seed_district
        from anbu.runtime import endpoints
        from anbu.storage.db import connect
        from anbu.storage.migrate import migrate
        from anbu.system import System

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
            from simulators.live import LiveClock

            clock = LiveClock(time.time() - history_days * 86_400)
            system = System(settings, ep.database_url, ep.mqtt_url, clock=clock)
            system.start()
            sim = _start_district(
                ep.database_url, ep.mqtt_url, households, seed, speed, stop, clock
            )
            embedded_db = " (embedded)" if ep.embedded_database else ""
            embedded_broker = " (embedded)" if ep.embedded_broker else ""
            typer.echo(f"anbu demo: {households} households in 성동구 (Seongdong-gu)")
            typer.echo(f"  database: {ep.database_url}{embedded_db}")
            typer.echo(
                f"  MQTT:     {ep.mqtt_url}{embedded_broker}; alerts for staff on "
                "anbu/staff/{id}/alerts"
            )
            web = f"http://{_browsable(settings.http_host)}:{settings.http_port}"
            typer.echo(f"  dashboard: {web}/  (Korean; English at {web}/lang/en)")
            typer.echo(f"  API:      {web}/docs")
            typer.echo(
                f"  simulated homes: the last {history_days:g} days replayed at {speed:g}x, "
                "then live; Ctrl-C stops."
            )
            typer.echo(f"  demo logins: admin, monitor1, planner1..4, field1 / {DEMO_PASSWORD}")
            if open_browser and _has_display():
                import webbrowser

                webbrowser.open(f"{web}/login")
            t0 = time.monotonic()
            try:
                while not stop.wait(10 if duration == 0 else min(10, duration)):
                    st = system.ingester.stats
                    with connect(ep.database_url) as conn:
                        row = conn.execute(
                            "SELECT count(*) FILTER (WHERE state <> 'resolved'), count(*)"
                            " FROM alerts"
                        ).fetchone()
                    typer.echo(
                        f"  ingested {st.inserted} readings, {st.dead_letters} dead "
                        f"letters; alerts open {row[0] if row else 0} of "
                        f"{row[1] if row else 0}"
                    )
                    if duration and time.monotonic() - t0 >= duration:
                        break
            finally:
                stop.set()
                sim.join(10)
                system.stop()


def _start_district(
    database_url: str,
    mqtt_url: str,
    households: int,
    seed: int,
    speed: float,
    stop: threading.Event,
    clock: Any,
) -> threading.Thread:
    """Publish a simulated district (the demo's homes) from a thread; registers its devices."""
    from anbu.storage.db import connect
    from anbu.storage.registry import DeviceRow, upsert_devices
    from simulators.fleet import Fleet
    from simulators.live import run_live
    from simulators.publish import MqttPublisher, parse_url

    fleet = Fleet(households, 60, seed, start=clock.virtual, scenario_mix="default")
    with connect(database_url) as conn:
        upsert_devices(
            conn,
            [
                DeviceRow(h["id"], d["id"], d["kind"], d.get("room", ""), bool(d.get("exterior")))
                for h in fleet.header()["households"]  # type: ignore[attr-defined]
                for d in h["devices"]
            ],
        )
        conn.commit()
    pub = MqttPublisher(parse_url(mqtt_url))

    def run() -> None:
        try:
            run_live(fleet, pub.send, speed, stop, clock=clock)
        finally:
            pub.flush()
            pub.close()

    t = threading.Thread(target=run, name="anbu-demo-district", daemon=True)
    t.start()
    return t


def _browsable(host: str) -> str:
    """The host to put in a URL for a server listening on `host` (0.0.0.0 is not browsable)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _has_display() -> bool:
    import os
    import sys

    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )

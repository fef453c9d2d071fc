"""Migrations and queries on the real PostgreSQL (plain) and, where present, TimescaleDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from anbu.domain import Kind, Reading
from anbu.storage import readings as store
from anbu.storage.db import connect
from anbu.storage.migrate import detect_timescale, migrate
from tests.helpers import seed_households

pytestmark = pytest.mark.integration


def test_migrate_is_idempotent_and_records_the_flavour(database_url: str) -> None:
    with connect(database_url) as conn:
        again = migrate(conn)
        assert again.applied == []
        variants = {r[0] for r in conn.execute("SELECT variant FROM schema_migrations")}
        assert variants == {"all", "timescale" if again.timescale else "plain"}
        for table in (
            "households",
            "staff",
            "assignments",
            "devices",
            "readings",
            "device_status",
            "dead_letters",
        ):
            conn.execute(f"SELECT * FROM {table} LIMIT 0")


def test_hourly_activity_and_duplicate_suppression(database_url: str) -> None:
    seed_households(database_url, ["hh-a"])
    t0 = datetime(2026, 11, 1, 8, tzinfo=UTC)
    rs = [
        Reading(
            "hh-a", "pir", Kind.MOTION, t0 + timedelta(minutes=10 * i), i, 1.0, {"motion": True}
        )
        for i in range(12)
    ]
    rs += [Reading("hh-a", "plug", Kind.POWER, t0, 0, 80.0, {"w": 80.0})]
    with connect(database_url) as conn:
        store.prepare(conn)
        assert store.store_batch(conn, rs, []).inserted == 13
        conn.commit()
        assert store.store_batch(conn, rs[:5], []).inserted == 0  # replayed: nothing new
        conn.commit()
        if detect_timescale(conn):
            conn.execute("CALL refresh_continuous_aggregate('activity_hourly', NULL, NULL)")
        rows = conn.execute(
            "SELECT hour, signs, motion, power_w_avg FROM activity_hourly"
            " WHERE household_id = 'hh-a' ORDER BY hour"
        ).fetchall()
    assert [(r[1], r[2]) for r in rows] == [(6, 6), (6, 6)]
    assert rows[0][3] == 80.0


def test_timescale_path_where_the_extension_exists(pg_server: str) -> None:
    with psycopg.connect(pg_server) as conn:
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
        ).fetchone()
    if not available:
        pytest.skip("TimescaleDB is not installed on this PostgreSQL server (plain path tested)")
    from tests.conftest import fresh_database

    with fresh_database(pg_server) as url, connect(url) as conn:
        assert detect_timescale(conn)
        row = conn.execute(
            "SELECT count(*) FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = 'readings'"
        ).fetchone()
        assert row is not None and row[0] == 1

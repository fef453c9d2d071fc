"""Versioned `.sql` migrations, with TimescaleDB parts applied only where the extension exists.

Files are `NNNN_name.sql` (always), `NNNN_name.timescale.sql` (only with TimescaleDB) and
`NNNN_name.plain.sql` (only without). A version is applied once, in one transaction, under an
advisory lock so that several workers starting together do not race.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import psycopg

Variant = Literal["all", "plain", "timescale"]
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(plain|timescale))?\.sql$")
_LOCK_ID = 0x616E6275  # "anbu"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    variant: Variant
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class MigrateResult:
    timescale: bool
    applied: list[str]
    current_version: int


def load_migrations() -> list[Migration]:
    out = []
    for entry in resources.files("anbu.storage.migrations").iterdir():
        m = _NAME.match(entry.name)
        if m is None:
            continue
        variant: Variant = m.group(3) or "all"  # type: ignore[assignment]
        out.append(Migration(int(m.group(1)), m.group(2), variant, entry.read_text("utf-8")))
    return sorted(out, key=lambda m: (m.version, m.variant))


def plan(migrations: list[Migration], applied: set[int], timescale: bool) -> list[Migration]:
    """The migrations still to run, in order, for a database with or without TimescaleDB."""
    want: Variant = "timescale" if timescale else "plain"
    return [m for m in migrations if m.version not in applied and m.variant in ("all", want)]


def detect_timescale(conn: psycopg.Connection[Any]) -> bool:
    """True when TimescaleDB is installed in this database, or can be (then it is created)."""
    row = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if row:
        return True
    row = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    if not row:
        return False
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except psycopg.Error:  # packaged but not preloaded (shared_preload_libraries): plain path
        return False
    return True


def migrate(conn: psycopg.Connection[Any]) -> MigrateResult:
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
    try:
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY, name text NOT NULL, variant text NOT NULL,
                   checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        conn.commit()
        timescale = detect_timescale(conn)
        applied = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
        done = []
        for m in plan(load_migrations(), applied, timescale):
            with conn.transaction():
                conn.execute(m.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, variant, checksum)"
                    " VALUES (%s, %s, %s, %s)",
                    (m.version, m.name, m.variant, m.checksum),
                )
            done.append(
                f"{m.version:04d}_{m.name}" + ("" if m.variant == "all" else f".{m.variant}")
            )
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        conn.commit()
        return MigrateResult(timescale, done, int(row[0]) if row else 0)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
        conn.commit()

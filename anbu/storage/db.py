"""Connections. One place that knows how anbu talks to PostgreSQL."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import TupleRow


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[TupleRow]:
    conn = psycopg.connect(url, autocommit=autocommit, application_name="anbu")
    conn.execute("SET TIME ZONE 'UTC'")
    if not autocommit:
        conn.commit()
    return conn


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at database `name`."""
    u = urlsplit(url)
    if u.scheme in ("postgresql", "postgres"):
        return urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))
    return psycopg.conninfo.make_conninfo(url, dbname=name)


def recreate_database(admin_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `admin_url`, migrate it, return its URL.

    For benchmarks and tools, never for a production database."""
    from anbu.storage.migrate import migrate

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    with connect(url) as conn:
        migrate(conn)
    return url

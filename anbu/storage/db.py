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

"""Shared fixtures: real PostgreSQL and MQTT, local ones when reachable, embedded otherwise."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from anbu import embedded
from anbu.runtime import LOCAL_MQTT, LOCAL_POSTGRES

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """An admin URL (database `postgres`) on a real PostgreSQL server."""
    if embedded.reachable("127.0.0.1", 5432):
        return LOCAL_POSTGRES
    return embedded.start_postgres(Path(tempfile.mkdtemp(prefix="anbu-pg-")), "postgres")


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, migrated database, dropped afterwards."""
    from anbu.storage.db import connect, with_database
    from anbu.storage.migrate import migrate

    name = f"anbu_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = with_database(admin_url, name)
    try:
        with connect(url) as conn:
            migrate(conn)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database_url(pg_server: str) -> Iterator[str]:
    with fresh_database(pg_server) as url:
        yield url


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    """The broker on 127.0.0.1:1883 when reachable, else a local mosquitto or amqtt."""
    if embedded.reachable("127.0.0.1", 1883):
        yield LOCAL_MQTT
    else:
        with embedded.local_broker() as url:
            yield url


@pytest.fixture(scope="session")
def durable_mqtt_url(mqtt_url: str) -> Iterator[str]:
    """A broker with the deployment's queue limits (deploy/mosquitto.conf), for tests that
    take the ingester away while messages keep coming. Mosquitto's default keeps only 1000
    queued messages per offline client and drops the rest, which is a broker setting, not
    something the ingester can make up for."""
    if shutil.which("mosquitto"):
        with embedded.mosquitto() as url:
            yield url
    else:
        yield mqtt_url


@pytest.fixture(scope="session")
def amqtt_url() -> Iterator[str]:
    """An MQTT 3.1.1-only broker (amqtt), in this process."""
    with embedded.amqtt_broker() as url:
        yield url

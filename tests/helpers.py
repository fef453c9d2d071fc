"""Test helpers that talk to the real broker and database."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg

from anbu.mqtt import detect_protocol, make_client, parse_url
from anbu.storage.registry import DistrictRow, HouseholdRow, upsert_districts, upsert_households


def seed_households(url: str, ids: Iterable[str]) -> None:
    with psycopg.connect(url) as conn:
        upsert_districts(conn, [DistrictRow("t", "테스트구", "Test-gu")])  # type: ignore[arg-type]
        upsert_households(conn, [HouseholdRow(h, "t", "", h) for h in ids])  # type: ignore[arg-type]


def publish(url: str, messages: Iterable[tuple[str, bytes]], window: int = 200) -> int:
    """Publish with QoS 1 and wait until the broker acknowledged all; returns the count."""
    addr = parse_url(url)
    c = make_client(addr, f"anbu-test-pub-{uuid.uuid4().hex[:8]}", detect_protocol(addr))
    c.max_inflight_messages_set(window)
    sem = threading.BoundedSemaphore(window)
    acked = [0]
    connected = threading.Event()
    c.on_connect = lambda *a: connected.set()

    def on_publish(*a: object) -> None:
        acked[0] += 1
        sem.release()

    c.on_publish = on_publish
    c.connect(addr.host, addr.port)
    c.loop_start()
    assert connected.wait(10), "publisher could not connect"
    n = 0
    for topic, payload in messages:
        sem.acquire()
        c.publish(topic, payload, qos=1)
        n += 1
    deadline = time.monotonic() + 60
    while acked[0] < n and time.monotonic() < deadline:
        time.sleep(0.01)
    c.disconnect()
    c.loop_stop()
    assert acked[0] == n, f"broker acknowledged {acked[0]} of {n}"
    return n


def wait_for(pred: Callable[[], bool], timeout: float = 60.0, every: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(every)
    return pred()


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def dead_letter_summary(url: str) -> list[tuple[str, int, str, bytes]]:
    """(reason, count, one detail, one payload) per reason: what a failing test should show."""
    with psycopg.connect(url) as conn:
        return conn.execute(  # type: ignore[return-value]
            "SELECT reason, count(*), min(detail), (array_agg(substring(payload for 80)))[1]"
            " FROM dead_letters GROUP BY reason"
        ).fetchall()


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run an ASGI application under uvicorn on a free local port; yields its base URL."""
    import uvicorn

    from anbu.embedded import free_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
    )
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web application did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(10)


def weekly_days(through: Any, levels: list[int]) -> dict[Any, Any]:
    """Eight weeks of `detectors.trend.Day`s ending on `through`: each day of week k has
    `levels[k]` reliable signs, one an hour from 08:00 (so as many active hours), one exit."""
    from datetime import timedelta

    from detectors.trend import day_from_counts

    first = through - timedelta(days=7 * len(levels) - 1)
    out = {}
    for k in range(7 * len(levels)):
        n = levels[k // 7]
        hours = [1 if 8 <= h < 8 + n else 0 for h in range(24)]
        out[first + timedelta(days=k)] = day_from_counts(n, n, 1, hours, [0] * 24)
    return out

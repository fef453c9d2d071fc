"""`anbu bench dashboard`: the board for many households, and live pushes to many pages.

A district of N households (the demo's, with every household's last sign of life, 1 % of
them with an open alarm, and 8 weeks of weekly activity reports, 2 % of them declining) is
served by the web application in its own process (uvicorn), as in production. Monitoring
staff of the district see every household.

- `board_p95_ms`: the full board page (`GET /`, every household in scope, server-rendered),
  timed from request to the last byte, sequentially after a warm-up.
- `push_p99_ms`: C pages hold `/events` open; alerts are raised one after another (as the
  detectors would hand them over); each page's latency is from just before the alert service
  is called to that page receiving the alert's first event. Both clocks are this process's.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx2
import numpy as np
import orjson

from alerts.model import Finding
from alerts.policy import default_policy
from alerts.service import AlertService
from anbu.domain import Severity
from anbu.embedded import free_port, reachable
from anbu.storage.db import connect, recreate_database
from dashboard.sample import DEMO_PASSWORD, seed_sample

HTML = {"Accept": "text/html"}


def run(
    households: int,
    clients: int,
    alerts: int,
    admin_url: str,
    requests: int = 40,
) -> dict[str, Any]:
    db = recreate_database(admin_url, "anbu_bench_dashboard")
    now = datetime.now(UTC)
    service = AlertService(default_policy(ask_first=False))
    with connect(db) as conn:
        seed_sample(conn, households, now)
        ids = [r[0] for r in conn.execute("SELECT id FROM households ORDER BY id")]
        for hid in ids[:: max(1, len(ids) // max(1, households // 100))][: households // 100]:
            service.handle(conn, Finding(hid, "inactivity", Severity.ALARM, now, "bench"))
        _weekly_reports(conn, now)
        conn.commit()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboard.bench_server", db, str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while not reachable("127.0.0.1", port):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the web application did not start")
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        with httpx2.Client(base_url=base, timeout=60) as c:
            r = c.post("/api/login", json={"username": "monitor1", "password": DEMO_PASSWORD})
            r.raise_for_status()
            cookies = dict(c.cookies)
            board_ms, size, rows = _board(c, requests)
        push = asyncio.run(_push(base, cookies, clients, alerts, db, service, ids[len(ids) // 2 :]))
    finally:
        server.terminate()
        server.wait(10)
    return {
        "households": households,
        "board_rows": rows,
        "board_bytes": size,
        "board_requests": len(board_ms),
        "board_p50_ms": round(float(np.percentile(board_ms, 50)), 1),
        "board_p95_ms": round(float(np.percentile(board_ms, 95)), 1),
        "clients": clients,
        "alerts": alerts,
        "pushes": len(push),
        "push_p50_ms": round(float(np.percentile(push, 50)), 1),
        "push_p99_ms": round(float(np.percentile(push, 99)), 1),
        "push_max_ms": round(float(np.max(push)), 1),
    }


def _weekly_reports(conn: Any, now: datetime, weeks: int = 8) -> None:
    """What the weekly trend job would have stored after `weeks` weeks: a report per household
    per week, the newest one `latest`, 2 % of the households declining (the board joins it)."""
    conn.execute(
        """INSERT INTO weekly_trends (household_id, week, through, weeks, active_hours_change,
               signs_change, active_hours_slope, signs_slope, declining, reasons, text, latest)
           SELECT h.id, w.through - extract(isodow FROM w.through)::int + 1, w.through, '[]',
                  -0.05, -0.02, -0.01, 0.0, w.k = 0 AND abs(hashtext(h.id)) %% 50 = 0,
                  '{}', 'bench', w.k = 0
           FROM households h,
                LATERAL (SELECT k, (%s::date - 7 * k) AS through
                         FROM generate_series(0, %s - 1) AS k) w""",
        (now.date(), weeks),
    )
    conn.execute("ANALYZE weekly_trends")


def _board(c: httpx2.Client, requests: int) -> tuple[list[float], int, int]:
    for _ in range(3):  # warm-up: connection pool, templates, the database's caches
        c.get("/", headers=HTML).raise_for_status()
    times = []
    text = ""
    for _ in range(requests):
        t0 = time.perf_counter()
        r = c.get("/", headers=HTML)
        r.raise_for_status()
        text = r.text
        times.append((time.perf_counter() - t0) * 1000)
    return times, len(text.encode()), text.count('<tr id="h-')


async def _push(
    base: str,
    cookies: dict[str, str],
    clients: int,
    alerts: int,
    db: str,
    service: AlertService,
    households: list[str],
) -> list[float]:
    #: household -> when its alert was handed to the alert service (which commits, and so
    #: announces, before it returns)
    raised_at: dict[str, float] = {}
    latencies: list[float] = []
    ready = asyncio.Semaphore(0)
    limits = httpx2.Limits(max_connections=clients + 10)
    async with httpx2.AsyncClient(
        base_url=base, cookies=cookies, timeout=None, limits=limits
    ) as client:

        async def page() -> None:
            seen: set[str] = set()
            async with client.stream("GET", "/events") as s:
                event = ""
                async for line in s.aiter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                        if event == "hello":
                            ready.release()
                    elif line.startswith("data:") and event == "board":
                        got = time.time()
                        change = orjson.loads(line[5:])
                        hid = str(change["household_id"])
                        if change.get("raised") and hid in raised_at and hid not in seen:
                            seen.add(hid)
                            latencies.append((got - raised_at[hid]) * 1000)

        tasks = [asyncio.create_task(page()) for _ in range(clients)]
        for _ in range(clients):
            await asyncio.wait_for(ready.acquire(), 60)

        def raise_one(hid: str) -> None:
            with connect(db) as conn:
                raised_at[hid] = time.time()
                service.handle(
                    conn, Finding(hid, "inactivity", Severity.DANGER, datetime.now(UTC), "bench")
                )
                conn.commit()

        for hid in households[:alerts]:
            await asyncio.to_thread(raise_one, hid)
            await asyncio.sleep(0.1)
        deadline = time.monotonic() + 10
        while len(latencies) < clients * alerts and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    missing = clients * alerts - len(latencies)
    if missing:
        raise RuntimeError(f"{missing} of {clients * alerts} pushes never arrived")
    return latencies

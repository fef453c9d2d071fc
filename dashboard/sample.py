"""A sample district with history, for the dashboard's benchmark, browser tests and screenshots.

The district is the demo's (staff logins with the demo password). Households chosen for history
get simulated readings (the simulators' homes, decoded and stored exactly as the ingester
would), so their pages show a real rhythm; every household gets the detector's summary of its
last sign of life, as a running system would have saved it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from anbu.contract import PERSON_KINDS
from anbu.demo import DEMO_PASSWORD, demo_district, seed
from anbu.domain import Kind

__all__ = ["DEMO_PASSWORD", "seed_sample"]

def seed_sample(
    conn: psycopg.Connection[Any],
    households: int,
    now: datetime,
    *,
    history: int = 0,
    days: float = 14.0,
    seed_value: int = 1,
) -> dict[str, datetime]:
    """Seed the district; give the first `history` households `days` of simulated readings.

    Returns each household's last sign of life. Commits.
    """
    from anbu.storage.readings import prepare, store_batch
    from anbu.storage.registry import DeviceRow, upsert_devices
    from ingest.decode import decode
    from simulators.fleet import Fleet

    district = demo_district(households, seed_value)
    seed(conn, district)
    conn.commit()
    last: dict[str, datetime] = {}
    if history:
        start = now - timedelta(days=days)
        fleet = Fleet(history, days, seed_value, start=start.timestamp(), scenario_mix="none")
        upsert_devices(
            conn,
            [
                DeviceRow(h["id"], d["id"], d["kind"], d.get("room", ""), bool(d.get("exterior")))
                for h in fleet.header()["households"]  # type: ignore[attr-defined]
                for d in h["devices"]
            ],
        )
        prepare(conn)
        for batch in fleet.batches():
            readings = []
            for m in batch:
                if m.t > now.timestamp():
                    break
                got = decode(m.topic, m.payload, datetime.fromtimestamp(m.t, UTC))
                readings.extend(got.readings)
            for r in readings:
                if r.kind in PERSON_KINDS and (r.kind is not Kind.MOTION or (r.value or 0) > 0):
                    last[r.household_id] = max(last.get(r.household_id, r.time), r.time)
            if readings:
                store_batch(conn, readings, [])
                conn.commit()
    rng = random.Random(seed_value)
    rows = []
    for h in district.households:
        at = last.get(h.id) or now - timedelta(minutes=rng.expovariate(1 / 45))
        last[h.id] = at
        rows.append((h.id, "Asia/Seoul", at, max(at, now - timedelta(minutes=5))))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO detector_state (household_id, timezone, last_sign_at, last_heard_at,"
            " state, format, profile) VALUES (%s, %s, %s, %s, 'home', 0, '')"
            " ON CONFLICT (household_id) DO UPDATE SET last_sign_at = excluded.last_sign_at,"
            " last_heard_at = excluded.last_heard_at",
            rows,
        )
    conn.commit()
    # fresh statistics, as autovacuum would soon have them: the board's plan depends on them
    conn.execute("ANALYZE")
    conn.commit()
    return last

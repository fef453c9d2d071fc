"""Writing readings and dead letters: one transaction per batch, COPY in, duplicates dropped.

Per batch: COPY the readings into a temporary staging table; move rows of unknown households
(and, with policy `reject`, unknown devices) to the dead letters; register unknown devices as
provisional; INSERT the rest into `readings` ON CONFLICT DO NOTHING (duplicates); refresh the
latest device status; COPY the decoder's dead letters. The caller commits and only then
acknowledges the MQTT messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import psycopg

from anbu.domain import DeadLetter, Kind, Reading

COLUMNS = "time, household_id, device_id, kind, seq, value, data, flags"

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS readings_stage
    (LIKE readings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
"""


def _reject_sql(where: str, reason: str, detail: str) -> str:
    """Move staged rows matching `where` to the dead letters, re-encoded as JSON."""
    return f"""
WITH gone AS (DELETE FROM readings_stage s WHERE {where} RETURNING s.*),
     j AS (SELECT *, (jsonb_build_object('ts', time, 'seq', seq) || data)::text AS doc FROM gone)
INSERT INTO dead_letters (received_at, topic, payload, size, reason, detail)
SELECT now(), 'anbu/v1/' || household_id || '/' || device_id || '/' || kind,
       convert_to(doc, 'UTF8'), octet_length(doc), '{reason}', {detail}
FROM j
"""


_UNKNOWN_HOUSEHOLDS = _reject_sql(
    "NOT EXISTS (SELECT 1 FROM households h WHERE h.id = s.household_id)",
    "unknown_household",
    "'household ' || household_id || ' is not registered'",
)
_UNKNOWN_DEVICES_REJECT = _reject_sql(
    "NOT EXISTS (SELECT 1 FROM devices d WHERE d.household_id = s.household_id"
    " AND d.id = s.device_id)",
    "unknown_device",
    "'device ' || device_id || ' is not registered'",
)

_REGISTER_DEVICES = """
INSERT INTO devices (household_id, id, kind, provisional)
SELECT DISTINCT ON (household_id, device_id) household_id, device_id, kind, true
FROM readings_stage
ORDER BY household_id, device_id, time
ON CONFLICT DO NOTHING
"""

_INSERT = f"""
INSERT INTO readings ({COLUMNS})
SELECT {COLUMNS} FROM readings_stage
ON CONFLICT DO NOTHING
"""

_STATUS = """
INSERT INTO device_status AS d
    (household_id, device_id, online, battery_pct, rssi_dbm, firmware, role, status_at)
SELECT household_id, device_id,
       (array_agg(coalesce((data->>'online')::boolean, true) ORDER BY time DESC))[1],
       (array_agg((data->>'battery_pct')::real ORDER BY time DESC)
            FILTER (WHERE data ? 'battery_pct'))[1],
       (array_agg((data->>'rssi_dbm')::real ORDER BY time DESC)
            FILTER (WHERE data ? 'rssi_dbm'))[1],
       (array_agg(data->>'firmware' ORDER BY time DESC) FILTER (WHERE data ? 'firmware'))[1],
       (array_agg(data->>'role' ORDER BY time DESC) FILTER (WHERE data ? 'role'))[1],
       max(time)
FROM readings_stage WHERE kind = 'status'
GROUP BY household_id, device_id
ON CONFLICT (household_id, device_id) DO UPDATE SET
    online = CASE WHEN excluded.status_at >= d.status_at THEN excluded.online ELSE d.online END,
    battery_pct = coalesce(excluded.battery_pct, d.battery_pct),
    rssi_dbm = coalesce(excluded.rssi_dbm, d.rssi_dbm),
    firmware = coalesce(excluded.firmware, d.firmware),
    role = coalesce(excluded.role, d.role),
    status_at = greatest(excluded.status_at, d.status_at)
"""


@dataclass(frozen=True, slots=True)
class BatchResult:
    inserted: int
    dead_letters: int


def prepare(conn: psycopg.Connection[Any]) -> None:
    """Create this connection's staging table (once per connection)."""
    conn.execute(_STAGE)
    conn.commit()


def store_batch(
    conn: psycopg.Connection[Any],
    readings: Sequence[Reading],
    dead: Sequence[DeadLetter],
    unknown_devices: Literal["register", "reject"] = "register",
) -> BatchResult:
    """Write one batch inside the caller's transaction; the caller commits."""
    inserted = 0
    rejected = 0
    with conn.cursor() as cur:
        if readings:
            with cur.copy(f"COPY readings_stage ({COLUMNS}) FROM STDIN") as cp:
                for r in readings:
                    cp.write_row(_row(r))
            cur.execute(_UNKNOWN_HOUSEHOLDS)
            rejected += cur.rowcount
            if unknown_devices == "reject":
                cur.execute(_UNKNOWN_DEVICES_REJECT)
                rejected += cur.rowcount
            else:
                cur.execute(_REGISTER_DEVICES)
            cur.execute(_INSERT)
            inserted = cur.rowcount
            if any(r.kind is Kind.STATUS for r in readings):
                cur.execute(_STATUS)
        if dead:
            write_dead_letters(cur, dead)
    return BatchResult(inserted, rejected + len(dead))


def write_dead_letters(cur: psycopg.Cursor[Any], dead: Iterable[DeadLetter]) -> None:
    with cur.copy(
        "COPY dead_letters (received_at, topic, payload, size, reason, detail) FROM STDIN"
    ) as cp:
        for d in dead:
            cp.write_row((d.received_at, d.topic, d.payload, d.size, d.reason, d.detail))


def _row(r: Reading) -> tuple[object, ...]:
    return (
        r.time,
        r.household_id,
        r.device_id,
        r.kind.value,
        r.seq,
        r.value,
        orjson.dumps(r.data).decode(),
        r.flags,
    )

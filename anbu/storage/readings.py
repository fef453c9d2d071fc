"""Writing readings and dead letters: one transaction per batch, COPY in, duplicates dropped.

The common batch — every device already registered, no duplicate, no `status` — is copied
straight into `readings` inside a savepoint (`KnownDevices` says which devices are known).
Anything else, and a direct copy that meets a duplicate, takes the checked path:

COPY the readings into a temporary staging table (times as integer microseconds
since the epoch, which the table turns into `time`: exact, and far cheaper for the ingester
than formatting a timestamp per reading); move rows of unknown households
(and, with policy `reject`, unknown devices) to the dead letters; register unknown devices as
provisional; INSERT the rest into `readings` ON CONFLICT DO NOTHING (duplicates); refresh the
latest device status; COPY the decoder's dead letters. The caller commits and only then
acknowledges the MQTT messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
import psycopg
import psycopg.errors

from anbu.domain import DeadLetter, Kind, Reading, ReadingFlag

COLUMNS = "time, household_id, device_id, kind, seq, value, data, flags"

#: one reading as the ingester hands it over: `Reading`'s fields in its order, except `time`
#: as integer microseconds since the epoch (UTC).
Row = tuple[str, str, Kind, int, int | None, float | None, Mapping[str, Any], int]
ROW_COLUMNS = "household_id, device_id, kind, us, seq, value, data, flags"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CLOCK_CORRECTED = int(ReadingFlag.CLOCK_CORRECTED)
_US = timedelta(microseconds=1)

# `time` from `us` without floating point (exact at any date): whole seconds, then micros.
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS readings_stage (
    us              bigint NOT NULL,
    time            timestamptz GENERATED ALWAYS AS ((timestamp 'epoch'
                        + (us / 1000000) * interval '1 second'
                        + (us % 1000000) * interval '1 microsecond') AT TIME ZONE 'UTC') STORED,
    household_id    text NOT NULL,
    device_id       text NOT NULL,
    kind            text NOT NULL,
    seq             bigint,
    value           double precision,
    data            jsonb NOT NULL DEFAULT '{}',
    flags           smallint NOT NULL DEFAULT 0
) ON COMMIT DELETE ROWS
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
# Duplicates are rare (a redelivery after a crash or a reconnect), and a plain INSERT costs the
# database about a third less per row than ON CONFLICT's speculative insertion. So: try it
# plainly in a savepoint; on a unique violation, roll back to it and take the duplicates out.
_INSERT_NEW = f"INSERT INTO readings ({COLUMNS}) SELECT {COLUMNS} FROM readings_stage"

# A reading whose device clock was off is stored at its receive time (flag 1, CLOCK_CORRECTED,
# with the device's own time kept as `device_ts`); a redelivery of it arrives at another receive
# time, so the unique index cannot see that it is the same reading. Such readings are matched on
# the device's time and sequence number instead: against what is stored (two days back) and
# within the batch.
_SKEWED_DUPLICATES = """
DELETE FROM readings_stage s
WHERE (s.flags & 1) = 1 AND s.seq IS NOT NULL AND s.data ? 'device_ts' AND (
    EXISTS (SELECT 1 FROM readings r
            WHERE r.household_id = s.household_id AND r.device_id = s.device_id
              AND r.time > s.time - interval '2 days' AND r.time <= s.time
              AND r.seq = s.seq AND (r.flags & 1) = 1
              AND r.data->>'device_ts' = s.data->>'device_ts')
    OR EXISTS (SELECT 1 FROM readings_stage o
               WHERE o.household_id = s.household_id AND o.device_id = s.device_id
                 AND o.seq = s.seq AND (o.flags & 1) = 1
                 AND o.data->>'device_ts' = s.data->>'device_ts'
                 AND (o.us, o.ctid) < (s.us, s.ctid)))
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
    #: the batch went straight into `readings` (no staging, no checks)
    direct: bool = False
    #: (household, device) pairs this batch showed to be registered; `KnownDevices.learn`
    #: them once the transaction has committed
    learned: frozenset[tuple[str, str]] = frozenset()
    #: registry_changes.n as the checks saw it (pass it to `KnownDevices.learn`)
    changes: int | None = None


_NULL = "\\N"
_NEEDS_ESCAPE = re.compile(r"[\t\n\r\\]")


@dataclass(slots=True)
class KnownDevices:
    """The (household, device) pairs a writer knows to be registered, and the direct COPY text.

    Only what the database said is learned: the pairs left in a checked batch's stage after
    its unknown households were dead-lettered and its unknown devices registered (or, with
    `reject`, dead-lettered), once that batch has committed. Everything is forgotten on a new
    connection and whenever `registry_changes` has moved (migration 0011: every delete, change
    of id or truncate of `households` or `devices` counts there). Each batch reads that count
    in its own transaction before it trusts a remembered pair — the same view of the registry
    as the checked path's statements, which see what was committed when each one started.
    An unknown pair never takes the direct path, so the checked path decides it as before.
    """

    max_pairs: int = 1_000_000
    pairs: set[tuple[str, str]] = field(default_factory=set)
    #: registry_changes.n when `pairs` were learned
    changes: int | None = None
    _seconds: dict[int, str] = field(default_factory=dict)

    def forget(self) -> None:
        """A new connection (or database): nothing is known."""
        self.pairs.clear()
        self.changes = None

    def still_valid(self, cur: psycopg.Cursor[Any]) -> bool:
        """Whether no registered pair was removed since learning (read in this transaction)."""
        n = _registry_changes(cur)
        if n != self.changes:
            self.pairs.clear()
            self.changes = n
            return False
        return True

    def learn(self, pairs: Iterable[tuple[str, str]], changes: int | None) -> None:
        """Remember pairs from a committed batch, seen registered when `changes` was current
        (ids COPY text could not carry are never remembered: they take the checked path).
        `changes` None: the batch learned nothing (it went direct, or had no readings)."""
        if changes is None:
            return
        if changes != self.changes or len(self.pairs) >= self.max_pairs:
            self.pairs.clear()
            self.changes = changes
        self.pairs.update(p for p in pairs if not _NEEDS_ESCAPE.search(p[0] + p[1]))

    def copy_text(self, rows: Sequence[Row]) -> bytes | None:
        """COPY text for `readings` of a batch of known devices; None if anything else.

        None when a device is not known, for a `status` (its latest state is aggregated from
        the stage) or a value of an unexpected type. Times are written as UTC timestamps with
        microseconds (exact); one formatted second is shared by the readings within it."""
        pairs = self.pairs
        if not pairs:
            return None
        secs = self._seconds
        if len(secs) > 100_000:
            secs.clear()
        dumps = orjson.dumps
        out: list[str] = []
        add = out.append
        for h, d, k, us, seq, value, data, flags in rows:
            if (h, d) not in pairs or k == "status" or flags & _CLOCK_CORRECTED:
                return None
            s, f = divmod(us, 1_000_000)
            second = secs.get(s)
            if second is None:
                t = _EPOCH + timedelta(seconds=s)
                second = secs[s] = t.replace(tzinfo=None).isoformat(" ")
            if value is None:
                v = _NULL
            elif type(value) is float:
                v = repr(value)
            else:
                return None
            js = dumps(data).decode()
            if "\\" in js:  # COPY text escapes its own backslashes
                js = js.replace("\\", "\\\\")
            add(
                f"{second}.{f:06d}+00\t{h}\t{d}\t{k}\t{_NULL if seq is None else seq}"
                f"\t{v}\t{js}\t{flags}\n"
            )
        return "".join(out).encode()


def prepare(conn: psycopg.Connection[Any]) -> None:
    """Create this connection's staging table (once per connection).

    JIT compilation is off for it: it takes milliseconds per statement, more than a batch's
    statements run, and kicks in whenever the planner misjudges the staging table's size.
    """
    conn.execute("SET jit = off")
    conn.execute(_STAGE)
    conn.commit()


def store_batch(
    conn: psycopg.Connection[Any],
    readings: Sequence[Reading],
    dead: Sequence[DeadLetter],
    unknown_devices: Literal["register", "reject"] = "register",
) -> BatchResult:
    """Write one batch inside the caller's transaction; the caller commits."""
    return store_rows(conn, [row_of(r) for r in readings], dead, unknown_devices)


def row_of(r: Reading) -> Row:
    return (
        r.household_id,
        r.device_id,
        r.kind,
        (r.time - _EPOCH) // _US,
        r.seq,
        r.value,
        r.data,
        int(r.flags),
    )


def store_rows(
    conn: psycopg.Connection[Any],
    rows: Sequence[Row],
    dead: Sequence[DeadLetter],
    unknown_devices: Literal["register", "reject"] = "register",
    known: KnownDevices | None = None,
) -> BatchResult:
    """Write one batch of rows inside the caller's transaction; the caller commits.

    With `known`, a batch of known devices is tried straight into `readings` first; the rows
    stored are the same either way (tests/integration/test_ingest_direct.py).
    """
    with conn.cursor() as cur:
        if rows and known is not None:
            text = known.copy_text(rows)
            if text is not None and known.still_valid(cur) and _copy_direct(cur, text):
                if dead:
                    write_dead_letters(cur, dead)
                return BatchResult(len(rows), len(dead), direct=True)
        return _store_checked(cur, rows, dead, unknown_devices, learn=known is not None)


def _store_checked(
    cur: psycopg.Cursor[Any],
    rows: Sequence[Row],
    dead: Sequence[DeadLetter],
    unknown_devices: Literal["register", "reject"],
    learn: bool,
) -> BatchResult:
    """Through the staging table: unknown households and devices checked, duplicates dropped."""
    inserted = rejected = 0
    learned: frozenset[tuple[str, str]] = frozenset()
    changes = None
    if rows:
        if learn:  # before the checks: a removal committed after them must count as later
            changes = _registry_changes(cur)
        dumps = orjson.dumps
        with cur.copy(f"COPY readings_stage ({ROW_COLUMNS}) FROM STDIN") as cp:
            write = cp.write_row
            for h, d, k, us, seq, value, data, flags in rows:
                write((h, d, k, us, seq, value, dumps(data).decode(), flags))
        cur.execute(_UNKNOWN_HOUSEHOLDS)
        rejected += cur.rowcount
        if unknown_devices == "reject":
            cur.execute(_UNKNOWN_DEVICES_REJECT)
            rejected += cur.rowcount
        else:
            cur.execute(_REGISTER_DEVICES)
        if learn:  # every device left in the stage is registered now
            cur.execute("SELECT DISTINCT household_id, device_id FROM readings_stage")
            learned = frozenset((h, d) for h, d in cur.fetchall())
        if any(r[7] & _CLOCK_CORRECTED for r in rows):
            cur.execute(_SKEWED_DUPLICATES)
        inserted = _insert(cur)
        if any(r[2] is Kind.STATUS for r in rows):
            cur.execute(_STATUS)
    if dead:
        write_dead_letters(cur, dead)
    return BatchResult(inserted, rejected + len(dead), learned=learned, changes=changes)


def _registry_changes(cur: psycopg.Cursor[Any]) -> int:
    row = cur.execute("SELECT n FROM registry_changes").fetchone()
    return int(row[0]) if row else 0


def _copy_direct(cur: psycopg.Cursor[Any], text: bytes) -> bool:
    """COPY rows straight into `readings` in a savepoint; False (and nothing written) when
    they meet a reading already stored or repeat one another."""
    cur.execute("SAVEPOINT anbu_direct")
    try:
        with cur.copy(f"COPY readings ({COLUMNS}) FROM STDIN") as cp:
            cp.write(text)
    except psycopg.errors.UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT anbu_direct")
        return False
    cur.execute("RELEASE SAVEPOINT anbu_direct")
    return True


def _insert(cur: psycopg.Cursor[Any]) -> int:
    cur.execute("SAVEPOINT anbu_readings")
    try:
        cur.execute(_INSERT_NEW)
    except psycopg.errors.UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT anbu_readings")
        cur.execute(_INSERT)
    n = cur.rowcount
    cur.execute("RELEASE SAVEPOINT anbu_readings")
    return n


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


#: the channel on which every committed insert into `readings` is announced (migration 0012)
FEED_CHANNEL = "anbu_readings"


def committed_at(conn: psycopg.Connection[Any], stored_at: str) -> list[Reading]:
    """The readings one transaction stored (`stored_at` as announced on FEED_CHANNEL), in
    time order."""
    return [
        Reading(h, d, Kind(k), t, seq, v, data, fl)
        for h, d, k, t, seq, v, data, fl in conn.execute(
            "SELECT household_id, device_id, kind, time, seq, value, data, flags FROM readings"
            " WHERE stored_at = %s::timestamptz ORDER BY time",
            (stored_at,),
        )
    ]

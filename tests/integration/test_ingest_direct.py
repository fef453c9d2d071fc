"""The direct path (known devices COPY'd straight into readings) against the checked path.

Both must leave the same readings, devices, device status and dead letters, whatever the
batches hold: duplicates within and across batches, unknown devices and households, status
messages, corrected clocks, late readings, awkward JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest

from anbu.storage import readings as store
from anbu.storage.db import connect
from ingest.rows import Rows, decode_rows
from tests.conftest import fresh_database
from tests.helpers import seed_households

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 22, 12, 0, 0, 500_001, tzinfo=UTC)
T = NOW.timestamp()


def msg(topic: str, body: object) -> Rows:
    return decode_rows(f"anbu/v1/{topic}", orjson.dumps(body), NOW)


def batches() -> list[Rows]:
    """Batches as a writer meets them; the first ones teach it the devices."""
    motion = [
        msg("hh-a/pir/motion", {"ts": T - 60 + s / 7, "seq": s, "motion": True}) for s in range(5)
    ]
    return [
        Rows([r for m in motion for r in m.rows]),
        # a new device (checked, then known); odd fractions
        Rows(
            msg("hh-a/pir/motion", {"ts": T - 0.0000005, "seq": 10, "motion": False}).rows
            + msg("hh-a/plug/power", {"ts": T - 1, "seq": 1, "w": 0.1 + 0.2, "appliance": "x"}).rows
        ),
        # known devices only (direct): JSON that COPY text must escape, flags, no value
        Rows(
            msg("hh-a/plug/power", {"ts": T - 0.5, "seq": 2, "w": 3.0, "x": 'a\\b\t"c"\n한'}).rows
            + msg("hh-a/pir/motion", {"ts": T + 3600, "seq": 11, "motion": True}).rows  # skewed
            + msg("hh-a/pir/motion", {"ts": T - 600, "seq": 12, "motion": True}).rows  # late
            + msg("hh-a/plug/power", {"ts": T - 2, "seq": 3, "wh": 12.5}).rows  # no value
        ),
        # a duplicate of a stored reading, and one repeated within the batch
        Rows(
            motion[2].rows + msg("hh-a/pir/motion", {"ts": T, "seq": 13, "motion": True}).rows * 2
        ),
        # a new device of a known household, a stranger household
        Rows(
            msg("hh-a/pir/motion", {"ts": T + 1, "seq": 14, "motion": True}).rows
            + msg("hh-a/door/door", {"ts": T, "seq": 1, "open": True, "exterior": True}).rows
            + msg("hh-zz/pir/motion", {"ts": T, "seq": 1, "motion": True}).rows
        ),
        # status of a known device: the aggregation reads the stage
        Rows(
            msg("hh-a/plug/status", {"ts": T, "seq": 4, "battery_pct": 80}).rows
            + msg("hh-a/pir/motion", {"ts": T + 2, "seq": 15, "motion": True}).rows
        ),
        Rows(msg("hh-a/door/door", {"ts": T + 3, "seq": 2, "open": False, "exterior": True}).rows),
    ]


def store_all(url: str, known: store.KnownDevices | None) -> list[store.BatchResult]:
    out = []
    with connect(url) as conn:
        store.prepare(conn)
        if known is not None:
            known.forget()
        for b in batches():
            res = store.store_rows(conn, b.rows, b.dead, "register", known)
            conn.commit()
            if known is not None:
                known.learn(res.learned, res.changes)
            out.append(res)
    return out


def snapshot(url: str) -> dict[str, list[Any]]:
    q = {
        "readings": "SELECT time, household_id, device_id, kind, seq, value, data, flags"
        " FROM readings ORDER BY household_id, time, device_id, seq",
        "devices": "SELECT household_id, id, kind, provisional FROM devices ORDER BY 1, 2",
        "status": "SELECT household_id, device_id, online, battery_pct, status_at"
        " FROM device_status ORDER BY 1, 2",
        "dead": "SELECT topic, payload, reason, detail FROM dead_letters ORDER BY topic",
    }
    with connect(url) as conn:
        return {k: conn.execute(v).fetchall() for k, v in q.items()}


@pytest.fixture
def second_database(pg_server: str) -> Iterator[str]:
    with fresh_database(pg_server) as url:
        yield url


def test_direct_and_checked_paths_store_the_same(database_url: str, second_database: str) -> None:
    for url in (database_url, second_database):
        seed_households(url, ["hh-a"])
    checked = store_all(database_url, None)
    direct = store_all(second_database, store.KnownDevices())

    assert [r.direct for r in checked] == [False] * 7
    # new devices are checked (and learned), then copied directly; back to the checks for a
    # duplicate, a new device or a stranger, and a status; the door is known from then on
    # the third batch holds a reading from a wrong clock: those take the checked path, where
    # a redelivery of it is recognised (tests/integration/test_ingest_storage.py)
    assert [r.direct for r in direct] == [False, False, False, False, False, False, True]
    assert [(r.inserted, r.dead_letters) for r in direct] == [
        (r.inserted, r.dead_letters) for r in checked
    ]
    a, b = snapshot(database_url), snapshot(second_database)
    assert a == b
    assert len(a["readings"]) == 5 + 2 + 4 + 1 + 2 + 2 + 1
    assert [d[2] for d in a["dead"]] == ["unknown_household"]


def test_a_device_deleted_elsewhere_is_registered_again(database_url: str) -> None:
    seed_households(database_url, ["hh-a", "hh-b"])
    known = store.KnownDevices()

    def put(conn: psycopg.Connection[Any], topic: str, seq: int) -> store.BatchResult:
        b = msg(topic, {"ts": T + seq, "seq": seq, "motion": True})
        res = store.store_rows(conn, b.rows, b.dead, "register", known)
        conn.commit()
        known.learn(res.learned, res.changes)
        return res

    with connect(database_url) as conn, connect(database_url) as staff:
        store.prepare(conn)
        known.forget()
        assert not put(conn, "hh-a/pir/motion", 1).direct
        assert not put(conn, "hh-b/pir/motion", 1).direct
        assert put(conn, "hh-a/pir/motion", 2).direct
        staff.execute("DELETE FROM devices WHERE household_id = 'hh-a'")
        staff.commit()
        res = put(conn, "hh-a/pir/motion", 3)  # checked again: registered as provisional
        assert not res.direct and res.inserted == 1
        assert not put(conn, "hh-b/pir/motion", 2).direct  # everything was forgotten
        assert put(conn, "hh-b/pir/motion", 3).direct
        # a household removed (with its devices): its readings are dead letters again
        staff.execute("DELETE FROM devices WHERE household_id = 'hh-b'")
        staff.execute("DELETE FROM households WHERE id = 'hh-b'")
        staff.commit()
        res = put(conn, "hh-b/pir/motion", 4)
        assert (res.direct, res.inserted, res.dead_letters) == (False, 0, 1)
        assert not put(conn, "hh-a/pir/motion", 4).direct  # forgotten again; learned again
        # unrelated edits do not make it forget
        staff.execute("UPDATE households SET display_name = 'x' WHERE id = 'hh-a'")
        staff.execute("UPDATE devices SET provisional = false")
        staff.commit()
        assert put(conn, "hh-a/pir/motion", 5).direct
        staff.execute("TRUNCATE devices")
        staff.commit()
        assert not put(conn, "hh-a/pir/motion", 6).direct
        devices = conn.execute("SELECT household_id, id, provisional FROM devices").fetchall()
        reasons = conn.execute("SELECT reason FROM dead_letters").fetchall()
    assert devices == [("hh-a", "pir", True)]
    assert reasons == [("unknown_household",)]


def test_with_reject_an_unknown_device_is_never_learned(database_url: str) -> None:
    seed_households(database_url, ["hh-a"])
    known = store.KnownDevices()
    with connect(database_url) as conn:
        store.prepare(conn)
        known.forget()
        for seq in (1, 2):
            b = msg("hh-a/pir/motion", {"ts": T + seq, "seq": seq, "motion": True})
            res = store.store_rows(conn, b.rows, b.dead, "reject", known)
            conn.commit()
            known.learn(res.learned, res.changes)
            assert (res.direct, res.inserted, res.dead_letters) == (False, 0, 1)
        assert not known.pairs


def test_the_writer_goes_direct_once_it_knows_the_devices(database_url: str) -> None:
    from ingest.backlog import Backlog
    from ingest.writer import BatchWriter, Item

    seed_households(database_url, ["hh-w"])
    writer = BatchWriter(database_url, Backlog(10))
    conn = writer._connect()
    try:
        for seq in range(3):
            m = msg("hh-w/pir/motion", {"ts": T + seq, "seq": seq, "motion": True})
            conn = writer._commit(conn, [Item(m, (1, seq + 1))])
        # a redelivery: the direct copy meets it, the checked path drops it
        m = msg("hh-w/pir/motion", {"ts": T + 2, "seq": 2, "motion": True})
        conn = writer._commit(conn, [Item(m, (1, 9))])
    finally:
        conn.close()
    s = writer.stats
    assert (s.batches, s.direct_batches, s.inserted) == (4, 2, 3)


def test_copy_text_times_are_exact() -> None:
    known = store.KnownDevices()
    known.learn([("h", "d")], 0)
    base = NOW - datetime(1970, 1, 1, tzinfo=UTC)
    rows: list[store.Row] = []
    for us in (0, 1, 999_999, -1, base // timedelta(microseconds=1)):
        rows.append(("h", "d", "motion", us, 1, None, {}, 0))  # type: ignore[arg-type]
    text = known.copy_text(rows)
    assert text is not None
    times = [line.split("\t")[0] for line in text.decode().splitlines()]
    assert times == [
        "1970-01-01 00:00:00.000000+00",
        "1970-01-01 00:00:00.000001+00",
        "1970-01-01 00:00:00.999999+00",
        "1969-12-31 23:59:59.999999+00",
        "2026-11-22 12:00:00.500001+00",
    ]
    assert known.copy_text([("h", "x", "motion", 0, 1, None, {}, 0)]) is None  # type: ignore[list-item]

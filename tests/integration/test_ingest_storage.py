"""The ingester's rows on the real PostgreSQL: exact times, duplicates stored once."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from anbu.domain import Kind
from anbu.storage import readings as store
from anbu.storage.db import connect
from ingest.decode import decode
from ingest.rows import decode_rows
from tests.helpers import seed_households

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 22, 12, 0, 0, 500_001, tzinfo=UTC)


def motion(seq: int, ts: float) -> bytes:
    return orjson.dumps({"ts": ts, "seq": seq, "motion": True})


def test_times_survive_the_microsecond_columns_exactly(database_url: str) -> None:
    seed_households(database_url, ["hh-t"])
    base = NOW.timestamp()
    stamps = [base - 0.0000005, base - 1.9999995, base - 86_400.123457, base + 3600, base - 1e6]
    rows, want = [], []
    for i, ts in enumerate(stamps):
        topic, payload = "anbu/v1/hh-t/pir/motion", motion(i, ts)
        rows += decode_rows(topic, payload, NOW).rows
        want += decode(topic, payload, NOW).readings
    with connect(database_url) as conn:
        store.prepare(conn)
        assert store.store_rows(conn, rows, []).inserted == len(stamps)
        conn.commit()
        got = conn.execute(
            "SELECT time, seq, flags, data FROM readings WHERE household_id = 'hh-t' ORDER BY seq"
        ).fetchall()
    assert [(t, s, f, d) for t, s, f, d in got] == [
        (r.time, r.seq, int(r.flags), dict(r.data)) for r in want
    ]


def test_duplicates_in_a_batch_and_across_batches_are_stored_once(database_url: str) -> None:
    seed_households(database_url, ["hh-d"])
    t0 = NOW.timestamp() - 60

    def rows(seqs: list[int]) -> list[store.Row]:
        return [
            r
            for s in seqs
            for r in decode_rows("anbu/v1/hh-d/pir/motion", motion(s, t0 + s), NOW).rows
        ]

    with connect(database_url) as conn:
        store.prepare(conn)
        assert store.store_rows(conn, rows([0, 1, 2]), []).inserted == 3
        conn.commit()
        # a redelivered message twice in one batch, one stored before, and new ones
        assert store.store_rows(conn, rows([3, 3, 1, 4]), []).inserted == 2
        conn.commit()
        assert store.store_rows(conn, rows([5, 6]), []).inserted == 2  # the plain path again
        conn.commit()
        n = conn.execute("SELECT count(*) FROM readings WHERE household_id = 'hh-d'").fetchone()
    assert n is not None and n[0] == 7


def test_unknown_households_and_devices_as_before(database_url: str) -> None:
    seed_households(database_url, ["hh-k"])
    now = datetime.now(UTC)
    batch = orjson.dumps(
        [
            {
                "device": "pir-new",
                "kind": "motion",
                "ts": now.timestamp(),
                "seq": 1,
                "motion": True,
            },
            {"device": "plug", "kind": "power", "ts": now.timestamp(), "seq": 2, "w": 5.5},
        ]
    )
    ok = decode_rows("anbu/v1/hh-k/gw/batch", batch, now).rows
    stranger = decode_rows("anbu/v1/hh-nobody/gw/batch", batch, now).rows
    with connect(database_url) as conn:
        store.prepare(conn)
        res = store.store_rows(conn, ok + stranger, [])
        conn.commit()
        assert (res.inserted, res.dead_letters) == (2, 2)
        devices = conn.execute(
            "SELECT id, kind, provisional FROM devices WHERE household_id = 'hh-k' ORDER BY id"
        ).fetchall()
        reasons = conn.execute(
            "SELECT reason, topic FROM dead_letters WHERE topic LIKE 'anbu/v1/hh-nobody/%'"
        ).fetchall()
    assert devices == [("pir-new", Kind.MOTION.value, True), ("plug", "power", True)]
    assert sorted(reasons) == [
        ("unknown_household", "anbu/v1/hh-nobody/pir-new/motion"),
        ("unknown_household", "anbu/v1/hh-nobody/plug/power"),
    ]


def test_a_batch_the_database_refuses_is_stored_message_by_message(database_url: str) -> None:
    from ingest.backlog import Backlog
    from ingest.rows import Rows
    from ingest.writer import BatchWriter, Item

    seed_households(database_url, ["hh-r"])
    now = datetime.now(UTC)
    good = decode_rows("anbu/v1/hh-r/pir/motion", motion(1, now.timestamp()), now)
    [row] = decode_rows("anbu/v1/hh-r/pir/motion", motion(2, now.timestamp()), now).rows
    bad = Rows([(*row[:7], 99_999)])  # flags beyond smallint: PostgreSQL refuses the batch
    writer = BatchWriter(database_url, Backlog(10))
    conn = writer._connect()
    try:
        conn = writer._commit(conn, [Item(good, (1, 1)), Item(bad, (1, 2))])
    finally:
        conn.close()
    assert (writer.stats.inserted, writer.stats.dead_letters) == (1, 1)
    with connect(database_url) as c:
        reason = c.execute(
            "SELECT reason FROM dead_letters WHERE topic LIKE 'anbu/v1/hh-r/%'"
        ).fetchall()
    assert reason == [("rejected_by_database",)]


def test_a_redelivered_reading_from_a_wrong_clock_is_stored_once(database_url: str) -> None:
    """A device clock a day off: the reading is stored at its receive time. Redelivered later
    (another receive time), in the same batch or another, it is still one reading."""
    from datetime import timedelta

    seed_households(database_url, ["hh-k"])
    wrong = NOW.timestamp() - 86_400 * 10  # ten days behind: corrected to the receive time

    def rows(seq: int, received: datetime) -> list[store.Row]:
        return decode_rows("anbu/v1/hh-k/pir/motion", motion(seq, wrong + seq), received).rows

    later = NOW + timedelta(seconds=40)
    with connect(database_url) as conn:
        store.prepare(conn)
        # learn the device first, so a later batch could take the direct path
        assert store.store_rows(conn, rows(1, NOW), []).inserted == 1
        conn.commit()
        # the same reading twice in one batch, then again in the next (after a reconnect)
        assert store.store_rows(conn, rows(2, NOW) + rows(2, later), []).inserted == 1
        conn.commit()
        assert store.store_rows(conn, rows(2, later) + rows(1, later), []).inserted == 0
        conn.commit()
        # another reading of the same device is of course stored
        assert store.store_rows(conn, rows(3, later), []).inserted == 1
        conn.commit()
        got = conn.execute(
            "SELECT seq, flags FROM readings WHERE household_id = 'hh-k' ORDER BY seq"
        ).fetchall()
    assert got == [(1, 1), (2, 1), (3, 1)]

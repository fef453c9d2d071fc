"""The weekly slow-decline job on the real database: simulated homes' readings stored as the
ingester stores them, the job run over them, and its stored days and reports checked against
`detectors.trend.report` over the same readings in memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from anbu.domain import Kind, Reading
from anbu.storage import trend as store
from anbu.storage.db import connect
from anbu.storage.readings import prepare, store_batch
from anbu.storage.registry import DistrictRow, HouseholdRow, upsert_districts, upsert_households
from detectors.trend import DailyActivity, Trend, report
from detectors.trend_job import TrendJob
from tests.conftest import fresh_database

pytestmark = pytest.mark.integration

SEOUL = ZoneInfo("Asia/Seoul")
DAYS = 60
#: the simulator's default start (2026-06-01 00:00 in Seoul) plus DAYS: the last whole day of
#: the readings is 2026-07-30, due an hour after the next midnight
THROUGH = date(2026, 7, 30)
NOW = datetime(2026, 7, 31, 2, 0, tzinfo=SEOUL)
DECLINING, NORMAL = "dec-0001", "nor-0001"


@dataclass
class Stored:
    url: str
    #: what `anbu trend` computes over the same readings, in memory
    expected: dict[str, Trend]


def _seed(conn: psycopg.Connection[Any], homes: dict[str, str]) -> None:
    upsert_districts(conn, [DistrictRow("t", "테스트구", "Test-gu")])
    upsert_households(conn, [HouseholdRow(h, "t", "", h) for h in homes])
    for h, tz in homes.items():
        conn.execute("UPDATE households SET timezone = %s WHERE id = %s", (tz, h))
    conn.commit()


@pytest.fixture(scope="module")
def stored(pg_server: str) -> Iterator[Stored]:
    """A declining home (the simulator's `decline` scenario) and a normal one, 60 days each,
    decoded and stored exactly as the ingester would."""
    from ingest.decode import decode
    from simulators.fleet import Fleet

    with fresh_database(pg_server) as url:
        fleets = [Fleet(1, DAYS, 22, scenario_mix="decline", prefix="dec"),
                  Fleet(1, DAYS, 11, scenario_mix="none", prefix="nor")]
        activity = DailyActivity({DECLINING: "Asia/Seoul", NORMAL: "Asia/Seoul"})
        with connect(url) as conn:
            _seed(conn, {DECLINING: "Asia/Seoul", NORMAL: "Asia/Seoul"})
            prepare(conn)
            for fleet in fleets:
                for batch in fleet.batches():
                    readings: list[Reading] = []
                    for m in batch:
                        got = decode(m.topic, m.payload, datetime.fromtimestamp(m.t, UTC))
                        readings.extend(got.readings)
                    activity.observe(readings)
                    store_batch(conn, readings, [])
                    conn.commit()
            conn.execute("ANALYZE readings")
            conn.commit()
        yield Stored(url, report(activity, {DECLINING: THROUGH, NORMAL: THROUGH}))


def _snapshot(url: str) -> tuple[list[Any], list[Any]]:
    with connect(url) as conn:
        days = conn.execute("SELECT * FROM activity_days ORDER BY household_id, day").fetchall()
        weeks = conn.execute("SELECT * FROM weekly_trends ORDER BY household_id, week").fetchall()
    return days, weeks


def test_the_job_flags_the_declining_home_with_the_numbers_of_the_report(
    stored: Stored,
) -> None:
    assert stored.expected[DECLINING].declining and not stored.expected[NORMAL].declining
    with connect(stored.url) as conn:
        res = TrendJob().run(conn, NOW)
        assert (res.households, res.worked, res.reports, res.declining) == (2, 2, 2, 1)
        assert res.days == 2 * 56  # the report's 8 weeks, caught up at the first run
        for hid in (DECLINING, NORMAL):
            (got,) = store.reports(conn, hid)
            want = stored.expected[hid]
            d = want.as_dict()
            assert got["through"] == THROUGH and got["week"] == date(2026, 7, 27)  # a Monday
            assert got["latest"] and got["declining"] == want.declining
            assert got["weeks"] == d["weeks"] and len(got["weeks"]) == 8
            for k in ("active_hours_change", "signs_change", "active_hours_slope",
                      "signs_slope"):
                assert got[k] == getattr(want, k), (hid, k)
            assert got["text"] == d["text"]
        (dec,) = store.reports(conn, DECLINING)
        assert dec["reasons"] and set(dec["reasons"]) <= {"signs", "active_hours"}
        # a case-management signal, never an alarm: no alert, no finding, nothing to deliver
        for table in ("alerts", "findings", "outbox"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        # the stored days are the in-memory days, count for count
        rows = conn.execute(
            "SELECT day, signs, reliable, active_hours, exits FROM activity_days"
            " WHERE household_id = %s AND signs > 0 ORDER BY day", (DECLINING,)
        ).fetchall()
    assert len(rows) == 56
    assert rows[0][0] == THROUGH - timedelta(days=55)
    # one full pass over the whole recording, against days computed each on its own
    assert [tuple(r) for r in rows] == _in_memory_days(stored, DECLINING, rows[0][0])


def _in_memory_days(stored: Stored, hid: str, first: date) -> list[tuple[Any, ...]]:
    from ingest.decode import decode
    from simulators.fleet import Fleet

    fleet = Fleet(1, DAYS, 22 if hid == DECLINING else 11,
                  scenario_mix="decline" if hid == DECLINING else "none", prefix=hid[:3])
    act = DailyActivity({hid: "Asia/Seoul"})
    for m in fleet.messages():
        act.observe(decode(m.topic, m.payload, datetime.fromtimestamp(m.t, UTC)).readings)
    return [(d, x.signs, x.reliable, x.active_hours(), x.exits)
            for d, x in sorted(act.days[hid].items()) if first <= d <= THROUGH]


def test_running_again_changes_nothing_and_a_missing_day_is_caught_up(stored: Stored) -> None:
    with connect(stored.url) as conn:
        TrendJob().run(conn, NOW)
    before = _snapshot(stored.url)
    with connect(stored.url) as conn:
        again = TrendJob().run(conn, NOW)
    assert (again.worked, again.days, again.readings, again.reports) == (0, 0, 0, 0)
    assert _snapshot(stored.url) == before
    # a day lost (a failed night, a restore): the next run counts exactly that day again
    gone = THROUGH - timedelta(days=20)
    with connect(stored.url) as conn:
        conn.execute("DELETE FROM activity_days WHERE household_id = %s AND day = %s",
                     (DECLINING, gone))
        conn.commit()
        res = TrendJob().run(conn, NOW)
    assert (res.worked, res.days, res.reports) == (1, 1, 1)
    after = _snapshot(stored.url)
    strip = [r[:-1] for r in before[0]], [r[:-1] for r in before[1]]
    assert ([r[:-1] for r in after[0]], [r[:-1] for r in after[1]]) == strip


def test_both_ways_of_reading_the_signs_count_the_same(stored: Stored) -> None:
    """Recounting the last two days home by home (a catch-up's plan) and by one scan of the
    time range (the nightly plan for many homes) gives the stored days, count for count."""
    with connect(stored.url) as conn:
        TrendJob().run(conn, NOW)
    before = _snapshot(stored.url)
    for scan_min in (1, 10_000):
        with connect(stored.url) as conn:
            res = TrendJob(scan_min=scan_min).run(conn, NOW, recompute=2)
        assert (res.days, res.reports) == (4, 2) and res.readings > 300
        after = _snapshot(stored.url)
        assert [r[:-1] for r in after[0]] == [r[:-1] for r in before[0]]
        assert [r[:-1] for r in after[1]] == [r[:-1] for r in before[1]]


def test_the_next_day_adds_a_day_and_keeps_the_last_weeks_report(stored: Stored) -> None:
    """Four days later, in the next week: four new days each (without readings: 0 signs, left
    out of the means), and a second weekly row; the first stays as history."""
    with connect(stored.url) as conn:
        TrendJob().run(conn, NOW)
        res = TrendJob().run(conn, NOW + timedelta(days=4))
        assert (res.worked, res.days, res.reports) == (2, 8, 2)
        hist = store.reports(conn, DECLINING, limit=10)
        assert [r["week"] for r in hist] == [date(2026, 8, 3), date(2026, 7, 27)]
        assert [r["latest"] for r in hist] == [True, False]
        assert hist[0]["through"] == date(2026, 8, 3)
        zero = conn.execute(
            "SELECT signs FROM activity_days WHERE household_id = %s AND day = %s",
            (DECLINING, THROUGH + timedelta(days=1)),
        ).fetchone()
        assert zero == (0,)
        # clean up for the other tests of this module
        conn.execute("DELETE FROM weekly_trends WHERE week > %s", (date(2026, 7, 27),))
        conn.execute("UPDATE weekly_trends SET latest = true")
        conn.execute("DELETE FROM activity_days WHERE day > %s", (THROUGH,))
        conn.commit()


def test_a_second_process_skips_while_the_first_holds_the_lock(stored: Stored) -> None:
    with connect(stored.url) as holder, connect(stored.url) as other:
        assert store.try_lock(holder)
        holder.commit()
        res = TrendJob().run(other, NOW + timedelta(days=3))
        assert res.skipped and res.worked == 0
        store.unlock(holder)
        holder.commit()
        assert not TrendJob().run(other, NOW).skipped


# -- time zones, late readings, recomputing ---------------------------------------------------


def _door(hid: str, at: datetime, seq: int, exterior: bool = False) -> Reading:
    return Reading(hid, "door-1", Kind.DOOR, at.astimezone(UTC), seq, 1.0,
                   {"open": True, "exterior": exterior})


def test_days_are_cut_in_each_households_own_time_zone(database_url: str) -> None:
    ny = ZoneInfo("America/New_York")
    with connect(database_url) as conn:
        _seed(conn, {"hh-ny": "America/New_York", "hh-seoul": "Asia/Seoul"})
        prepare(conn)
        # 23:30 on 7 March in New York is 04:30 UTC and 13:30 in Seoul on 8 March; 8 March
        # 2026 in New York has 23 hours (daylight saving time starts at 02:00)
        at = datetime(2026, 3, 7, 23, 30, tzinfo=ny)
        late = datetime(2026, 3, 8, 23, 10, tzinfo=ny)
        store_batch(conn, [_door("hh-ny", at, 1, exterior=True), _door("hh-seoul", at, 1),
                           _door("hh-ny", late, 2), _door("hh-seoul", late, 2)], [])
        conn.commit()
        now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
        res = TrendJob().run(conn, now)
        assert res.readings == 4
        got = {
            (r[0], r[1]): (r[2], r[3], r[4].index(1))
            for r in conn.execute(
                "SELECT household_id, day, signs, exits, hours_reliable FROM activity_days"
                " WHERE signs > 0"
            )
        }
    # 23:10 EDT on 8 March is 03:10 UTC and 12:10 in Seoul on 9 March
    assert got == {
        ("hh-ny", date(2026, 3, 7)): (1, 1, 23),
        ("hh-ny", date(2026, 3, 8)): (1, 0, 23),
        ("hh-seoul", date(2026, 3, 8)): (1, 0, 13),
        ("hh-seoul", date(2026, 3, 9)): (1, 0, 12),
    }


def test_a_day_is_counted_only_once_it_is_over_and_can_be_recomputed(database_url: str) -> None:
    with connect(database_url) as conn:
        _seed(conn, {"hh-1": "Asia/Seoul"})
        prepare(conn)
        day = date(2026, 7, 1)
        noon = datetime(2026, 7, 1, 12, 0, tzinfo=SEOUL)
        store_batch(conn, [_door("hh-1", noon, 1)], [])
        conn.commit()
        job = TrendJob(grace=timedelta(hours=1))
        # 00:30 on 2 July: the day is over, but not its grace: 30 June is the last day counted
        job.run(conn, datetime(2026, 7, 2, 0, 30, tzinfo=SEOUL))
        assert not conn.execute("SELECT 1 FROM activity_days WHERE day = %s", (day,)).fetchone()
        job.run(conn, datetime(2026, 7, 2, 1, 30, tzinfo=SEOUL))
        q = "SELECT signs FROM activity_days WHERE household_id = 'hh-1' AND day = %s"
        assert conn.execute(q, (day,)).fetchone() == (1,)
        # a reading that came late (a gateway's buffer) is not counted again by itself...
        store_batch(conn, [_door("hh-1", noon + timedelta(hours=2), 2)], [])
        conn.commit()
        res = job.run(conn, datetime(2026, 7, 2, 1, 40, tzinfo=SEOUL))
        assert res.days == 0 and conn.execute(q, (day,)).fetchone() == (1,)
        # ...but on request (`anbu trend-job --recompute 1`)
        res = job.run(conn, datetime(2026, 7, 2, 1, 40, tzinfo=SEOUL), recompute=1)
        assert res.days == 1 and conn.execute(q, (day,)).fetchone() == (2,)


def test_the_operators_command_runs_one_round(database_url: str) -> None:
    """`anbu trend-job` as an operator runs it: JSON out, bad options refused (exit 2)."""
    import orjson
    from typer.testing import CliRunner

    from anbu.cli import _register, app

    with connect(database_url) as conn:
        _seed(conn, {"hh-1": "Asia/Seoul", "hh-2": "Asia/Seoul"})
        prepare(conn)
        store_batch(conn, [_door("hh-1", datetime(2026, 7, 1, 12, tzinfo=SEOUL), 1)], [])
        conn.commit()
    _register()
    run = CliRunner().invoke(app, ["trend-job", "--database-url", database_url,
                                   "--now", "2026-07-02T02:00+09:00", "--household", "hh-1"])
    assert run.exit_code == 0, run.output
    out = orjson.loads(run.output)
    assert (out["households"], out["days"], out["readings"], out["reports"]) == (1, 56, 1, 1)
    for bad in (["--recompute", "57"], ["--now", "2026-07-02T02:00"]):
        run = CliRunner().invoke(app, ["trend-job", "--database-url", database_url, *bad])
        assert run.exit_code == 2, (bad, run.output)

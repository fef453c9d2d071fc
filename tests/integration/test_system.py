"""The composition root end to end: MQTT readings -> detection -> one alert -> the planner."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from anbu.domain import Kind, Reading
from anbu.settings import Settings
from anbu.storage import alerts as alert_store
from anbu.storage.db import connect
from anbu.storage.registry import (
    DistrictRow,
    HouseholdRow,
    StaffRow,
    assign,
    upsert_districts,
    upsert_households,
    upsert_staff,
)
from anbu.system import System
from tests.alert_receivers import webhook
from tests.helpers import count, publish, wait_for

pytestmark = pytest.mark.integration


class ManualClock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


def morning(hid: str, t0: float) -> list[tuple[str, bytes]]:
    """Three hours of ordinary activity around the home, with the gateway's heartbeats."""
    rooms = ["pir-living", "pir-kitchen", "pir-bathroom", "pir-bedroom"]
    msgs = [
        (
            f"anbu/v1/{hid}/{rooms[i % 4]}/motion",
            orjson.dumps({"ts": t0 + i * 300 + (i * 37) % 120, "seq": i, "motion": True}),
        )
        for i in range(36)
    ]
    msgs += [
        (
            f"anbu/v1/{hid}/gw-1/status",
            orjson.dumps(
                {"ts": t0 + i * 600, "seq": i, "online": True, "role": "gateway", "battery_pct": 90}
            ),
        )
        for i in range(19)
    ]
    return msgs


def test_silence_after_activity_raises_one_alert_for_the_planner(
    database_url: str, mqtt_url: str
) -> None:
    hid = f"sys-{uuid.uuid4().hex[:6]}"
    with webhook() as hook:
        with connect(database_url) as conn:
            upsert_districts(conn, [DistrictRow("d1", "성동구", "Seongdong-gu")])
            upsert_staff(conn, [StaffRow("p1", "planner1", "최유진", "planner", "d1")])
            upsert_households(conn, [HouseholdRow(hid, "d1", "마장동", "김○○")])
            assign(conn, hid, "p1", "primary")
            for who in ("p1", "centre"):
                conn.execute(
                    "INSERT INTO staff_channels (staff_id, channel, address)"
                    " VALUES (%s, 'webhook', %s)",
                    (who, hook.url),
                )
            conn.commit()
        tag = uuid.uuid4().hex[:8]
        settings = Settings(
            mqtt_client_id=f"anbu-sys-{tag}",
            mqtt_share_group=f"s{tag}",
            mqtt_session_expiry_s=60,
            alerts_ask_first=False,
        )
        now = datetime.now(UTC)
        clock = ManualClock(now)
        system = System(settings, database_url, mqtt_url, clock=clock, tick_s=3600, web=False)
        system.start()
        try:
            publish(mqtt_url, morning(hid, now.timestamp() - 3 * 3600))
            assert wait_for(lambda: count(database_url, "SELECT count(*) FROM readings") >= 55, 30)
            with connect(database_url) as conn:
                system.tick(conn)
                early = {a.kind for a in alert_store.active(conn)}
                assert "inactivity" not in early, early
                # a day and more of silence in which only the gateway speaks, fed as the
                # ingester's commit hook would (these times are ahead of the wall clock)
                for step in range(1, 6 * 31):
                    clock.t = now + timedelta(minutes=10 * step)
                    system._observe(
                        [
                            Reading(
                                hid,
                                "gw-1",
                                Kind.STATUS,
                                clock.t,
                                100 + step,
                                90.0,
                                {"online": True, "role": "gateway"},
                            )
                        ]
                    )
                    if step % 6 == 0:  # hourly evaluation; the alert stays one
                        system.tick(conn)
                alerts = [a for a in alert_store.active(conn) if a.kind == "inactivity"]
                kinds = {a.kind for a in alert_store.active(conn)}
            assert len(alerts) == 1, kinds
            assert alerts[0].household_id == hid
            assert alerts[0].severity.label in ("alarm", "danger")
            assert alerts[0].explanation
            assert wait_for(
                lambda: any(
                    p["kind"] == "inactivity" and p["household_id"] == hid for _, p in hook.received
                ),
                10,
            )
            with connect(database_url) as conn:
                # one lone PIR blip (a pet, sunlight) is not the person coming back
                clock.t += timedelta(minutes=5)
                system._observe(
                    [Reading(hid, "pir-living", Kind.MOTION, clock.t, 500, 1.0, {"motion": True})]
                )
                system.tick(conn)
                still = [a for a in alert_store.active(conn) if a.kind == "inactivity"]
                assert len(still) == 1, "a single blip ended the alarm"
                # the person up and about again (moving, the toilet, the fridge): the engine
                # judges the silence over and the alert ends as auto-resolved
                rooms = ["pir-bedroom", "pir-bathroom", "pir-kitchen", "pir-living"]
                for k in range(8):
                    clock.t += timedelta(minutes=2)
                    system._observe(
                        [
                            Reading(
                                hid,
                                rooms[k % 4],
                                Kind.MOTION,
                                clock.t,
                                600 + k,
                                1.0,
                                {"motion": True},
                            )
                        ]
                    )
                clock.t += timedelta(minutes=1)
                system._observe(
                    [
                        Reading(hid, "flush-1", Kind.WATER, clock.t, 700, 1.0, {"event": "flush"}),
                        Reading(
                            hid,
                            "contact-fridge",
                            Kind.CONTACT,
                            clock.t + timedelta(minutes=3),
                            701,
                            1.0,
                            {"open": True, "target": "fridge"},
                        ),
                    ]
                )
                clock.t += timedelta(minutes=4)
                system.tick(conn)
                assert [a for a in alert_store.active(conn) if a.kind == "inactivity"] == []
                assert alerts[0].id is not None
                ended = alert_store.load(conn, alerts[0].id)
            assert ended is not None and ended.outcome is not None
            assert ended.outcome.value == "auto_resolved" and ended.resolved_by == "system"
        finally:
            system.stop()


def test_the_engine_sees_what_another_ingest_worker_stored(
    database_url: str, mqtt_url: str
) -> None:
    """Readings committed by an `anbu ingest` worker elsewhere (here: written straight to the
    database, as its writer does) reach this process's detector engine through the feed."""
    from anbu.storage.readings import prepare, store_batch

    hid = f"far-{uuid.uuid4().hex[:6]}"
    with connect(database_url) as conn:
        upsert_districts(conn, [DistrictRow("d1", "성동구", "Seongdong-gu")])
        upsert_households(conn, [HouseholdRow(hid, "d1", "마장동", "김○○")])
        conn.commit()
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        mqtt_client_id=f"anbu-sys-{tag}", mqtt_share_group=f"s{tag}", mqtt_session_expiry_s=60
    )
    now = datetime.now(UTC)
    system = System(
        settings, database_url, mqtt_url, clock=ManualClock(now), tick_s=3600, web=False
    )
    system.start()
    try:
        last = now - timedelta(minutes=3)
        readings = [
            Reading(
                hid,
                "pir-1",
                Kind.MOTION,
                last - timedelta(minutes=10 * k),
                k,
                1.0,
                {"motion": True},
                0,
            )
            for k in range(5, -1, -1)
        ]
        with connect(database_url) as other:
            prepare(other)
            store_batch(other, readings, [])
            other.commit()

        def seen() -> bool:
            with system._lock:
                if system.detect.engine.index(hid) is None:
                    return False
                sign = system.detect.engine.export(hid).last_sign
            return sign is not None and abs(sign - last.timestamp()) < 1

        assert wait_for(seen, 10), "the engine never saw the other worker's readings"

        # the dashboard's last sign of life follows each tick, between the engine's full saves
        with connect(database_url) as conn:
            with system._lock:
                system.detect.save(conn, now)
            conn.commit()
            newer = now - timedelta(seconds=30)
            with connect(database_url) as other:
                prepare(other)
                store_batch(
                    other,
                    [Reading(hid, "pir-2", Kind.MOTION, newer, 1, 1.0, {"motion": True}, 0)],
                    [],
                )
                other.commit()
            last = newer
            assert wait_for(seen, 10)
            system.tick(conn)
            row = conn.execute(
                "SELECT last_sign_at FROM detector_state WHERE household_id = %s", (hid,)
            ).fetchone()
        assert row is not None and abs(row[0].timestamp() - newer.timestamp()) < 1
    finally:
        system.stop()


def test_the_weekly_trend_job_runs_in_anbu_run_and_stops_with_it(
    database_url: str, mqtt_url: str
) -> None:
    """At start the job catches up the report's 8 weeks of days from the stored readings; a
    day later (the clock moved past the next midnight) its next round adds that day; stopping
    the system stops it."""
    from zoneinfo import ZoneInfo

    from anbu.storage.readings import prepare, store_batch

    hid = f"tr-{uuid.uuid4().hex[:6]}"
    seoul = ZoneInfo("Asia/Seoul")
    now = datetime(2026, 7, 1, 9, 0, tzinfo=seoul)
    with connect(database_url) as conn:
        upsert_districts(conn, [DistrictRow("d1", "성동구", "Seongdong-gu")])
        upsert_households(conn, [HouseholdRow(hid, "d1", "마장동", "김○○")])
        conn.commit()
        prepare(conn)
        store_batch(
            conn,
            [
                Reading(hid, "door-1", Kind.DOOR, now - timedelta(days=k, hours=2), k, 1.0,
                        {"open": True, "exterior": False}, 0)
                for k in range(0, 10)
            ],
            [],
        )
        conn.commit()
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        mqtt_client_id=f"anbu-sys-{tag}", mqtt_share_group=f"s{tag}", mqtt_session_expiry_s=60
    )
    clock = ManualClock(now)
    system = System(settings, database_url, mqtt_url, clock=clock, tick_s=3600, web=False,
                    trend_every_s=0.2)
    system.start()
    try:
        q = f"SELECT count(*) FROM activity_days WHERE household_id = '{hid}'"
        assert wait_for(lambda: count(database_url, q) == 56, 30)
        assert count(database_url, q + " AND signs = 1") == 9  # the 9 whole days before today
        assert count(database_url, "SELECT count(*) FROM weekly_trends WHERE latest") == 1
        clock.t = now + timedelta(days=1)
        assert wait_for(lambda: count(database_url, q) == 57, 30)
        assert count(database_url, q + " AND signs = 1 AND day = '2026-07-01'") == 1
    finally:
        system.stop()
    assert not any(t.name == "anbu-trend" and t.is_alive() for t in system._threads)

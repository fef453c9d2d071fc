"""Restart safety on the real database: stop the engine during a silence, start it again
after the alert came due, and the alert fires at once (and only once)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from anbu.domain import Kind, Reading, Severity
from anbu.storage import detectors as store
from anbu.storage import readings as readings_store
from anbu.storage.db import connect
from detectors.service import DetectorService
from tests.helpers import seed_households

pytestmark = pytest.mark.integration

HH = "hh-restart"
#: 18:00 in Seoul
T0 = datetime(2026, 6, 3, 9, 0, tzinfo=UTC)


def _beats(hh: str, start: datetime, end: datetime) -> list[Reading]:
    out, t, k = [], start, 0
    while t < end:
        out.append(Reading(hh, "gw-1", Kind.STATUS, t, k, None,
                           {"online": True, "role": "gateway"}))
        t += timedelta(minutes=10)
        k += 1
    return out


def _life(hh: str, start: datetime, end: datetime) -> list[Reading]:
    out, t, k = [], start, 0
    while t < end:
        out.append(Reading(hh, "pir-living", Kind.MOTION, t, k, 1.0, {"motion": True}))
        out.append(Reading(hh, "contact-fridge", Kind.CONTACT, t + timedelta(minutes=3), k, 1.0,
                           {"open": True, "target": "fridge"}))
        t += timedelta(minutes=20)
        k += 1
    return out


def _by_time(rs: list[Reading]) -> list[Reading]:
    return sorted(rs, key=lambda r: r.time)


def test_alarm_due_while_down_fires_at_start_up(database_url: str) -> None:
    seed_households(database_url, [HH])
    before = DetectorService()
    with connect(database_url) as conn:
        before.start(conn, T0 - timedelta(hours=6), [(HH, "Asia/Seoul")])
        before.observe(_by_time(_life(HH, T0 - timedelta(hours=6), T0)
                                + _beats(HH, T0 - timedelta(hours=6), T0 + timedelta(hours=2))))
        quiet = before.tick(conn, T0 + timedelta(hours=2), force_save=True)
        conn.commit()
    assert [f.kind for f in quiet] == []
    # anbu is down from T0 + 2 h to T0 + 13 h; the fixed 12 h alarm (the home is still
    # warming up) came due at T0 + 12 h
    later = T0 + timedelta(hours=13)
    after = DetectorService()
    with connect(database_url) as conn:
        after.start(conn, later)
        fired = after.tick(conn, later)
        again = after.tick(conn, later + timedelta(minutes=2))
        conn.commit()
        rows = store.load_findings(conn, HH)
    assert [(f.kind, f.severity) for f in fired] == [("inactivity", Severity.ALARM)]
    assert fired[0].at == later
    # the last sign: the fridge at T0 - 17 min
    assert fired[0].evidence["silence_s"] == 13 * 3600 + 17 * 60
    assert "no sign of life for 13 h 17 min" in fired[0].explanation.en.lower()
    assert "13시간 17분" in fired[0].explanation.ko
    assert again == []  # raised once, not on every tick
    assert [(r.kind, r.severity) for r in rows] == [("inactivity", "alarm")]


def test_readings_stored_while_down_are_replayed(database_url: str) -> None:
    """Signs of life stored while the engine was down count: no false alarm at start-up."""
    seed_households(database_url, [HH])
    before = DetectorService()
    with connect(database_url) as conn:
        before.start(conn, T0 - timedelta(hours=6), [(HH, "Asia/Seoul")])
        before.observe(_by_time(_life(HH, T0 - timedelta(hours=6), T0)
                                + _beats(HH, T0 - timedelta(hours=6), T0)))
        before.tick(conn, T0, force_save=True)
        conn.commit()
        # the ingester kept storing while the detect task was down: life went on
        readings_store.prepare(conn)
        readings_store.store_batch(conn, _by_time(
            _life(HH, T0, T0 + timedelta(hours=13))
            + _beats(HH, T0, T0 + timedelta(hours=13))), [])
        conn.commit()
    later = T0 + timedelta(hours=13)
    after = DetectorService()
    with connect(database_url) as conn:
        replayed = after.start(conn, later)
        fired = after.tick(conn, later)
        conn.commit()
    assert replayed >= 13 * 3 * 2
    assert [f.kind for f in fired] == []
    assert after.engine.state_of(HH, later.timestamp()) in ("home", "asleep")


def test_learned_alarm_after_restart_matches_an_engine_that_never_stopped(
        database_url: str) -> None:
    """A simulated home past its warm-up: the person stops at 10:00 on day 9. One engine runs
    through; another is stopped at 10:30 and started again later: the first tick after the
    restart raises the alarm the continuous engine raised while the other was down."""
    from ingest.decode import decode
    from simulators.fleet import Fleet
    from simulators.incidents import is_person

    fleet = Fleet(1, 10.0, seed=5, personas=(("older_regular", 1.0),))
    hh = fleet.households[0].household
    seed_households(database_url, [hh])
    cut = fleet.start + 8 * 86400 + 3600.0 * 1  # 10:00 in Seoul on day 9
    stop = cut + 1800.0
    readings: list[Reading] = []
    for m in fleet.messages():
        if m.t >= cut and is_person(m):
            continue
        if m.t >= cut + 12 * 3600:
            break
        readings.extend(decode(m.topic, m.payload, datetime.fromtimestamp(m.t, UTC)).readings)
    ref = DetectorService()
    ref.engine.add_household(hh, "Asia/Seoul")
    first_alarm = None
    tick = datetime.fromtimestamp(fleet.start, UTC)
    k = 0
    while k < len(readings):
        nxt = tick + timedelta(minutes=2)
        batch = []
        while k < len(readings) and readings[k].time < nxt:
            batch.append(readings[k])
            k += 1
        ref.engine.observe(batch)
        for f in ref.engine.evaluate(nxt):
            if f.kind == "inactivity" and f.severity.escalated and first_alarm is None \
                    and nxt.timestamp() >= cut:
                first_alarm = nxt
        tick = nxt
    assert first_alarm is not None, "the continuous engine raised no alarm"
    assert first_alarm.timestamp() > stop

    before = DetectorService()
    with connect(database_url) as conn:
        before.start(conn, datetime.fromtimestamp(fleet.start, UTC), [(hh, "Asia/Seoul")])
        tick = datetime.fromtimestamp(fleet.start, UTC)
        k = 0
        stop_dt = datetime.fromtimestamp(stop, UTC)
        while tick < stop_dt:
            nxt = tick + timedelta(minutes=2)
            batch = []
            while k < len(readings) and readings[k].time < nxt:
                batch.append(readings[k])
                k += 1
            before.engine.observe(batch)
            before.engine.evaluate(nxt)
            tick = nxt
        before.save(conn, stop_dt)
        conn.commit()
    restart = first_alarm + timedelta(minutes=30)
    after = DetectorService()
    with connect(database_url) as conn:
        after.start(conn, restart)
        fired = after.tick(conn, restart)
        conn.commit()
    kinds = [(f.kind, f.severity.escalated) for f in fired]
    assert ("inactivity", True) in kinds
    assert not any(f.kind == "device.gateway_offline" for f in fired)


def test_a_state_saved_by_an_older_version_is_adopted_not_relearned(
        database_url: str) -> None:
    """An upgrade changed the state layout: the stored row of the previous layout is adopted
    field by field, so the home keeps its learned rhythm and stays past its warm-up."""
    import numpy as np

    from detectors import layouts
    from detectors.synth import Day, Home

    previous = 1459511579  # the layout stored by 4f1f0c2 .. c645da8
    h = Home(household="hh-upgrade", days=10, seed=4,
             plan=lambda d: Day(wake=7.0, bed=22.5, outing=(10.0, 11.5)))
    seed_households(database_url, [h.household])
    learned = DetectorService()
    learned.engine.add_household(h.household, h.timezone)
    end = datetime.fromtimestamp(h.midnight(10), UTC)
    rs = h.readings()
    k, t = 0, datetime.fromtimestamp(h.midnight(0), UTC)
    while t < end:
        t += timedelta(minutes=10)
        batch = []
        while k < len(rs) and rs[k].time < t:
            batch.append(rs[k])
            k += 1
        learned.engine.observe(batch)
        learned.engine.evaluate(t)
    st = learned.engine.export(h.household)
    i = learned.engine.index(h.household)
    assert i is not None and learned.engine.hh.a["in_days"][i] >= 6
    # what the previous version stored: the same values in its record layout
    rec = layouts.records(previous)
    assert rec is not None
    cur = np.frombuffer(st.household, dtype=learned.engine.hh.record)
    old = np.zeros(1, dtype=rec[0])
    for name in rec[0].names:
        if name in cur.dtype.names and cur[name].shape == old[name].shape:
            old[name] = cur[name]
    dev_cur = np.frombuffer(st.devices, dtype=learned.engine.dv.record)
    dev_old = np.zeros(dev_cur.shape[0], dtype=rec[1])
    for name in rec[1].names:
        dev_old[name] = dev_cur[name]
    with connect(database_url) as conn:
        store.save_states(conn, [replace(st, household=old.tobytes(),
                                         devices=dev_old.tobytes())], previous, end)
        conn.commit()
    after = DetectorService()
    with connect(database_url) as conn:
        after.start(conn, end + timedelta(minutes=5))
        conn.commit()
    j = after.engine.index(h.household)
    assert j is not None
    a, b = after.engine.hh.a, learned.engine.hh.a
    for name in ("rh_n", "rh_e", "rh_cum", "rh_rcum", "in_m", "in_h", "in_days", "pr_rmax"):
        np.testing.assert_array_equal(a[name][j], b[name][i], err_msg=name)
    assert a["in_days"][j] >= after.settings.warmup_days
    assert after.engine.state_format() != previous

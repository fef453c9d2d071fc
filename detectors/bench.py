"""`anbu bench detect`: one evaluation of every household, and the state each one costs.

The engine is filled with `households` homes whose state is real: a small simulated fleet
runs for ten days (past the warm-up), and its learned states are replicated, row by row, into
a large engine (the numpy arrays, as `Engine.adopt` would, without one Python call per home).
Then `ticks` evaluations one minute apart are timed (one in ten also runs the slow checks:
devices, isolation, climate, power); the ticks after local midnight, which also relearn the
rhythm and thresholds of up to 1,000 homes each, are timed separately. No readings flow:
gateway heartbeats are applied to the state directly between timed ticks.
"""

from __future__ import annotations

import gc
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from detectors.engine import Engine


def _template(seed: int, homes: int = 24, days: float = 10.0) -> tuple[Engine, datetime]:
    from ingest.decode import decode
    from simulators.fleet import Fleet

    fleet = Fleet(homes, days, seed)
    eng = Engine()
    for h in fleet.households:
        eng.add_household(h.household, h.home.timezone)
    step = 300.0
    tick = fleet.start + step
    for m in fleet.messages():
        while m.t >= tick:
            eng.evaluate(datetime.fromtimestamp(tick, UTC))
            tick += step
        eng.observe(decode(m.topic, m.payload, datetime.fromtimestamp(m.t, UTC)).readings)
    return eng, datetime.fromtimestamp(tick, UTC)


def replicate(src: Engine, n: int) -> Engine:
    """An engine with n households copied round-robin from `src`'s (devices included)."""
    eng = Engine(src.s, capacity=n)
    m = src.hh.n
    pick = np.arange(n) % m
    eng.hh.add(n)
    for f in src.hh.fields:
        eng.hh.a[f.name][:n] = src.hh.a[f.name][pick]
    eng.zones, eng._zone_index, eng._zinfo = src.zones, src._zone_index, src._zinfo
    eng.ids = [f"hh-{k:06d}" for k in range(n)]
    eng._index = {h: k for k, h in enumerate(eng.ids)}
    owner = src.dv.a["dv_hh"][: src.dv.n]
    per_home = [np.flatnonzero(owner == i) for i in range(m)]
    counts = np.array([len(d) for d in per_home])[pick]
    total = int(counts.sum())
    rows = np.concatenate([per_home[i] for i in pick.tolist()])
    eng.dv.add(total)
    for f in src.dv.fields:
        eng.dv.a[f.name][:total] = src.dv.a[f.name][rows]
    eng.dv.a["dv_hh"][:total] = np.repeat(np.arange(n), counts)
    eng.dev_ids = [src.dev_ids[j] for j in rows.tolist()]
    start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    eng._hh_devs = [list(range(int(s), int(s + c))) for s, c in zip(start, counts, strict=True)]
    return eng


def _beat(eng: Engine, at: datetime) -> None:
    """Every home's gateway was heard at `at` (what a heartbeat reading does to the state),
    applied directly: the benchmark times evaluation, not observation."""
    n = eng.hh.n
    eng.hh.a["dh_heard"][:n] = at.timestamp()
    eng.hh.a["dh_offline"][:n] = np.nan


def _ticks(eng: Engine, start: datetime, count: int) -> tuple[list[float], int]:
    times, found = [], 0
    for k in range(count):
        at = start + timedelta(minutes=k)
        if k % 10 == 0:
            _beat(eng, at)
        t = time.perf_counter()
        found += len(eng.evaluate(at))
        times.append((time.perf_counter() - t) * 1000.0)
    return times, found


def bench_detect(households: int = 100_000, ticks: int = 20, seed: int = 1) -> dict[str, Any]:
    t_setup = time.perf_counter()
    src, start = _template(seed)
    eng = replicate(src, households)
    # the copies start at local midnight: let the daily relearning (spread over the ticks
    # after midnight) finish before timing ordinary ticks
    warm, _ = _ticks(eng, start, 120)
    setup_s = time.perf_counter() - t_setup
    gc.collect()
    now = start + timedelta(hours=3)
    times, found = _ticks(eng, now, ticks)
    # the ticks after local midnight: every home's day rolls over (set back by one day here
    # rather than waiting 24 h with no sign of life flowing, which would time a storm of
    # inactivity findings instead)
    eng.hh.a["in_day"][: eng.hh.n] -= 1
    night, _ = _ticks(eng, now + timedelta(minutes=ticks), 10)
    arr = np.asarray(times)
    return {
        "households": households,
        "devices_per_household": round(eng.dv.n / households, 2),
        "ticks": ticks,
        "tick_ms": round(float(np.median(arr)), 2),
        #: the mean counts the ticks that also run slow checks (devices, climate ...)
        "tick_ms_mean": round(float(arr.mean()), 2),
        "tick_ms_p90": round(float(np.percentile(arr, 90)), 2),
        "tick_ms_max": round(float(arr.max()), 2),
        #: the ticks after local midnight also relearn (at most 1,000 homes each)
        "midnight_tick_ms_max": round(max(night), 2),
        "midnight_tick_ms_median": round(float(np.median(night)), 2),
        "findings": found,
        "bytes_per_household": round(eng.bytes_per_household(), 1),
        "household_row_bytes": eng.hh.row_bytes,
        "device_row_bytes": eng.dv.row_bytes,
        "setup_s": round(setup_s, 1),
    }

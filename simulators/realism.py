"""How close simulated days are to real ones: activity-by-hour profiles and quiet spells.

Both sides are measured the same way, from recordings: *signs of life* are the messages of the
contract's person kinds (motion, door, contact, appliance, presence, water, health, button),
counting only a PIR's `motion: true` (its `false` is a timeout, not a movement). Then:

* (PIR onsets only: see `signs_of_life`)
* the hour-of-day profile (share of signs of life in each local hour) of each side, compared by
  Pearson correlation at zero lag and at the best circular lag (people keep different hours:
  the shape of a day matters here, its phase is the persona's);
* the *quiet spells*: gaps of at least `min_gap_s` between consecutive signs of life — the
  silences an inactivity detector must tell from an emergency — compared by the two-sample
  Kolmogorov–Smirnov distance of their log lengths and by their quantiles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from anbu.contract import PERSON_KINDS, parse_topic
from simulators.core import Message

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def signs_of_life(messages: Iterable[Message], household: str | None = None) -> np.ndarray:
    """Sorted times of person-kind messages; for a PIR only the *onsets* (a `motion: true`
    after its `false`), so a sensor that re-reports every 30–60 s while movement goes on and
    one that reports an activation interval once (the Ordonez PIRs) count the same way."""
    out = []
    moving: dict[tuple[str, str], bool] = {}
    for m in messages:
        t = parse_topic(m.topic)
        if t is None or t.kind not in PERSON_KINDS:
            continue
        if household is not None and t.household_id != household:
            continue
        if t.kind == "motion":
            key = (t.household_id, t.device_id)
            now = b'"motion":true' in m.payload
            was = moving.get(key, False)
            moving[key] = now
            if not now or was:
                continue
        out.append(m.t)
    times: np.ndarray = np.sort(np.asarray(out, dtype=np.float64))
    return times


def hourly_profile(times: np.ndarray, timezone: str) -> np.ndarray:
    """Share of events in each local clock hour (24 values summing to 1)."""
    tz = ZoneInfo(timezone)
    hours = np.array([datetime.fromtimestamp(t, tz).hour for t in times.tolist()], dtype=int)
    counts = np.bincount(hours, minlength=24).astype(np.float64)
    shares: np.ndarray = counts / max(float(counts.sum()), 1.0)
    return shares


def best_lag(a: np.ndarray, b: np.ndarray) -> tuple[int, float, float]:
    """(lag h, r at that lag, r at zero lag): `a` shifted later by `lag` hours best fits `b`."""
    rs = [float(np.corrcoef(np.roll(a, k), b)[0, 1]) for k in range(24)]
    k = int(np.argmax(rs))
    return (k if k <= 12 else k - 24), rs[k], rs[0]


def quiet_spells(times: np.ndarray, min_gap_s: float = 300.0) -> np.ndarray:
    g = np.diff(times)
    return g[g >= min_gap_s]


def ks_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic: the largest gap between the two ECDFs."""
    x, y = np.sort(x), np.sort(y)
    grid = np.concatenate((x, y))
    fx = np.searchsorted(x, grid, side="right") / x.shape[0]
    fy = np.searchsorted(y, grid, side="right") / y.shape[0]
    return float(np.max(np.abs(fx - fy)))


@dataclass(frozen=True, slots=True)
class Comparison:
    lag_h: int
    r_best: float
    r_zero: float
    ks_log_gaps: float
    sim_quantiles_min: tuple[float, ...]
    real_quantiles_min: tuple[float, ...]
    sim_events_per_day: float
    real_events_per_day: float
    sim_spells_per_day: float
    real_spells_per_day: float


def compare(sim: np.ndarray, sim_tz: str, sim_days: float, real: np.ndarray, real_tz: str,
            real_days: float, min_gap_s: float = 300.0) -> Comparison:
    """Compare sign-of-life times of simulated homes with those of a real one."""
    lag, r_best, r_zero = best_lag(hourly_profile(sim, sim_tz), hourly_profile(real, real_tz))
    gs, gr = quiet_spells(sim, min_gap_s), quiet_spells(real, min_gap_s)
    return Comparison(
        lag, r_best, r_zero, ks_distance(np.log(gs), np.log(gr)),
        tuple(float(x) for x in np.round(np.quantile(gs, QUANTILES) / 60.0, 1)),
        tuple(float(x) for x in np.round(np.quantile(gr, QUANTILES) / 60.0, 1)),
        sim.shape[0] / sim_days, real.shape[0] / real_days,
        gs.shape[0] / sim_days, gr.shape[0] / real_days,
    )

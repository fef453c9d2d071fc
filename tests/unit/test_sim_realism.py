"""Simulated older_regular days against the two real Ordonez homes (figures: docs/simulation.md).

Each real home is compared with simulated homes that carry the same sensor set (sensor sets
`ordonez_a` / `ordonez_b`), both measured the same way from recordings (simulators.realism).
The real residents keep Spanish hours (up ~10:30, to bed ~01:30); the persona is an early
Korean day, so hourly profiles are compared at the best circular lag, and that lag must be
about the difference in waking time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulators import ordonez, realism
from simulators.fleet import Fleet
from simulators.importer import import_events, load_map, read_events

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "ordonez"
pytestmark = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"Ordonez data not found at {DATA} (../shared/data/ordonez)")

#: per real home: lowest acceptable best-lag correlation of hourly profiles. Home A's resident
#: hardly cooks (0.9 cooktop activations a day) and is busiest around a 14:00 lunch; the persona
#: cooks three meals, so A's profile shape matches less well than B's (see docs/simulation.md).
MIN_R = {"A": 0.35, "B": 0.7}


def _real(home: str, tmp: Path) -> tuple[np.ndarray, float]:
    src = DATA / f"Ordonez{home}_Sensors.txt"
    ordonez.to_csv(src, tmp / "e.csv")
    mapping = load_map(ordonez.map_for(src))
    _, msgs = import_events(read_events(tmp / "e.csv", mapping.timezone), mapping, "real")
    return realism.signs_of_life(msgs), (msgs[-1].t - msgs[0].t) / 86400.0


@pytest.mark.parametrize("home", ["A", "B"])
def test_older_regular_looks_like_a_real_home(home: str, tmp_path: Path) -> None:
    real, real_days = _real(home, tmp_path)
    n, days = 8, 14.0
    fleet = Fleet(n, days, 1, personas=(("older_regular", 1.0),),
                  sensors=((f"ordonez_{home.lower()}", 1.0),))
    msgs = list(fleet.messages())
    per_home = [realism.signs_of_life(msgs, h.household) for h in fleet.households]
    sim = np.sort(np.concatenate(per_home))

    lag, r_best, _ = realism.best_lag(realism.hourly_profile(sim, "Asia/Seoul"),
                                      realism.hourly_profile(real, "Europe/Madrid"))
    assert 2 <= lag <= 6, "the lag should be about the difference in waking time"
    assert r_best >= MIN_R[home]

    sim_spells = np.concatenate([realism.quiet_spells(t) for t in per_home])
    real_spells = realism.quiet_spells(real)
    assert realism.ks_distance(np.log(sim_spells), np.log(real_spells)) <= 0.2
    # medians of quiet spells within 40 %, counts per day within a factor of two
    assert np.median(sim_spells) == pytest.approx(np.median(real_spells), rel=0.4)
    ratio_events = (sim.shape[0] / (n * days)) / (real.shape[0] / real_days)
    ratio_spells = (sim_spells.shape[0] / (n * days)) / (real_spells.shape[0] / real_days)
    assert 0.6 <= ratio_events <= 1.6 and 0.5 <= ratio_spells <= 2.0

"""The engine's clock: which slow checks (devices, isolation, climate, power) a tick runs."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from detectors.engine import SLOW_EVERY_S, SLOW_STRIPES, Engine, _stripe_bounds, _stripe_rows

T0 = 1_780_000_200.0  # a multiple of a minute


def test_the_first_tick_runs_every_stripe() -> None:
    assert Engine()._slow_stripes(T0) == list(range(SLOW_STRIPES))


@pytest.mark.parametrize("tick_s", [60.0, 120.0, 300.0, 45.0, 600.0])
def test_each_stripe_is_checked_once_per_period_whatever_the_tick(tick_s: float) -> None:
    e = Engine()
    e._slow_stripes(T0)
    periods = 6
    seen: Counter[int] = Counter()
    per_tick = []
    for k in range(1, int(periods * SLOW_EVERY_S / tick_s) + 1):
        due = e._slow_stripes(T0 + k * tick_s)
        per_tick.append(len(due))
        seen.update(due)
    assert set(seen) == set(range(SLOW_STRIPES))
    assert all(periods - 1 <= c <= periods + 1 for c in seen.values())
    # spread evenly: a tick checks about tick_s / (SLOW_EVERY_S / SLOW_STRIPES) stripes
    step = SLOW_EVERY_S / SLOW_STRIPES
    assert max(per_tick) <= tick_s / step + 1


def test_a_long_gap_or_time_going_back_runs_every_stripe() -> None:
    e = Engine()
    e._slow_stripes(T0)
    assert e._slow_stripes(T0 + 60.0) == [(int(T0 // 60.0) + 1) % SLOW_STRIPES]
    assert e._slow_stripes(T0 + 60.0 + SLOW_EVERY_S) == list(range(SLOW_STRIPES))
    assert e._slow_stripes(T0) == list(range(SLOW_STRIPES))


def test_stripe_rows() -> None:
    assert _stripe_rows(25, [1, 3]).tolist() == [2, 3, 4, 7, 8, 9]
    assert _stripe_bounds(25, [1, 2, 3, 9]) == [(2, 10), (22, 25)]
    assert _stripe_bounds(5, [0, 3]) == [(1, 2)]  # block 0 of 5 rows is empty
    assert _stripe_rows(7, list(range(SLOW_STRIPES))).tolist() == list(range(7))
    rows = np.concatenate([_stripe_rows(1003, [k]) for k in range(SLOW_STRIPES)])
    assert sorted(rows.tolist()) == list(range(1003))

"""The learned rhythm: integrals of the expected rate, learning, the rest window."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from detectors import rhythm

SEOUL = 9 * 3600.0
#: Monday 2026-06-01 00:00 in Seoul
MON = datetime(2026, 6, 1, tzinfo=ZoneInfo("Asia/Seoul")).timestamp()


def _cum(weekday_rate: float, weekend_rate: float) -> np.ndarray:
    per = np.array([weekday_rate, weekend_rate])[:, None] * np.ones(rhythm.SLOTS)
    cum = np.zeros((2, rhythm.SLOTS + 1), dtype=np.float32)
    cum[:, 1:] = np.cumsum(per, axis=1)
    return cum


def test_weekday_of_the_epoch_day_numbers() -> None:
    day = math.floor((MON + SEOUL) / 86400.0)
    assert rhythm.weekday(day) == 0
    assert rhythm.daytype(day + 5) == 1 and rhythm.daytype(day + 4) == 0


def test_integral_over_a_week_counts_five_weekdays_and_two_weekend_days() -> None:
    cum = _cum(2.0, 5.0)
    week = rhythm.integrate_one(cum, MON, MON + 7 * 86400.0, SEOUL)
    assert week == pytest.approx(5 * 48 + 2 * 120)
    # starting on Saturday noon for 36 h: 12 h of Saturday and 24 h of Sunday
    sat = MON + 5 * 86400.0 + 12 * 3600.0
    assert rhythm.integrate_one(cum, sat, sat + 36 * 3600.0, SEOUL) == pytest.approx(180.0)


def test_vectorised_and_scalar_integrals_agree() -> None:
    rng = np.random.default_rng(4)
    n = 50
    cum = np.zeros((n, 2, rhythm.SLOTS + 1), dtype=np.float32)
    cum[:, :, 1:] = np.cumsum(rng.uniform(0, 20, (n, 2, rhythm.SLOTS)), axis=2)
    t1 = MON + rng.uniform(0, 14 * 86400.0, n)
    t2 = t1 + rng.uniform(0, 3 * 86400.0, n)
    off = np.full(n, SEOUL)
    vec = rhythm.integrate(cum, t1, t2, off)
    one = [rhythm.integrate_one(cum[k], float(t1[k]), float(t2[k]), SEOUL) for k in range(n)]
    assert vec == pytest.approx(one, rel=1e-5)
    assert rhythm.integrate(cum, t2, t1, off).tolist() == [0.0] * n
    # the rows of a larger table, read in place, give the same as a copy of them
    rows = rng.permutation(n)[:20]
    assert rhythm.integrate(cum, t1[:20], t2[:20], off[:20], rows).tolist() == (
        rhythm.integrate(cum[rows], t1[:20], t2[:20], off[:20]).tolist())


def test_one_profile_table_is_used_for_every_day() -> None:
    cum = _cum(3.0, 3.0)[:1]
    assert rhythm.integrate_one(cum, MON, MON + 86400.0 * 6, SEOUL) == pytest.approx(432.0)
    vec = rhythm.integrate(cum[None], np.array([MON]), np.array([MON + 86400.0 * 6]),
                           np.array([SEOUL]))
    assert vec[0] == pytest.approx(432.0)


def test_exposure_is_split_over_the_hours_it_covers() -> None:
    e = np.zeros(2 * rhythm.SLOTS, dtype=np.float32)
    rhythm.add_exposure(e, MON + 7.5 * 3600.0, MON + 9.25 * 3600.0, SEOUL)
    assert e[7] == pytest.approx(0.5) and e[8] == pytest.approx(1.0)
    assert e[9] == pytest.approx(0.25) and e.sum() == pytest.approx(1.75)
    # Saturday goes to the weekend half
    rhythm.add_exposure(e, MON + 5 * 86400.0, MON + 5 * 86400.0 + 1800.0, SEOUL)
    assert e[rhythm.SLOTS] == pytest.approx(0.5)


def test_learning_a_steady_rate_gives_it_back() -> None:
    n = np.zeros((1, 48), dtype=np.float32)
    e = np.zeros((1, 48), dtype=np.float32)
    n[0, :24] = 10 * 7.0  # 7 signs an hour, ten weekdays
    e[0, :24] = 10.0
    n[0, 24:] = 4 * 7.0
    e[0, 24:] = 4.0
    cum = rhythm.relearn(n, e)
    rates = np.diff(cum[0], axis=1)
    # the generic prior (1 h) pulls the night hours a little below 7
    assert rates[0, 12] == pytest.approx(7.0, abs=0.1)
    assert 6.0 < rates[0, 2] < 7.0


def test_rest_window_is_the_longest_quiet_run_across_midnight() -> None:
    rate = np.full(rhythm.SLOTS, 10.0)
    rate[[22, 23, 0, 1, 2, 3, 4, 5]] = 0.5
    rate[14] = 1.0  # a nap is not the night
    cum = np.zeros((1, 2, rhythm.SLOTS + 1), dtype=np.float32)
    cum[0, :, 1:] = np.cumsum(rate)
    bits = rhythm.rest_window(cum)[0]
    want = sum(1 << k for k in (22, 23, 0, 1, 2, 3, 4, 5))
    assert int(bits[0]) == want and int(bits[1]) == want
    assert rhythm.usual_wake_slot(cum[0], 0) == 6
    t = MON + 23.5 * 3600.0
    assert rhythm.overlaps_rest_one(bits, t, t + 60.0, SEOUL)
    assert not rhythm.overlaps_rest_one(bits, MON + 14 * 3600.0, MON + 15 * 3600.0, SEOUL)

"""The inactivity score (a CUSUM of expected signs) and its learned thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors import inactivity, rhythm
from detectors.settings import DetectorSettings
from detectors.state import Table

S = DetectorSettings()
T0 = 1_780_243_200.0  # Monday 2026-06-01 01:00 in Seoul
OFF = 9 * 3600.0


def _home(rate: float = 6.0) -> Table:
    hh = Table(rhythm.FIELDS + inactivity.FIELDS + (
        __import__("detectors.presence", fromlist=["FIELDS"]).FIELDS))
    hh.add()
    inactivity.start(hh, 0, T0)
    cum = np.zeros((2, rhythm.SLOTS + 1), dtype=np.float32)
    cum[:, 1:] = np.cumsum(np.full(rhythm.SLOTS, rate))
    hh.a["rh_cum"][0] = cum
    return hh


def test_a_silence_accumulates_the_expected_signs_and_a_reliable_sign_resets() -> None:
    hh = _home(6.0)
    score = inactivity.score(hh, np.array([0]), np.array([T0 + 1800.0]), np.array([OFF]))
    assert score[0] == pytest.approx(3.0)
    inactivity.on_sign(hh, 0, T0 + 1800.0, False, True, OFF, True, S)
    assert hh.a["in_S"][0] == 0.0 and hh.a["in_tref"][0] == T0 + 1800.0
    assert hh.a["in_peak"][0] == 0.0  # the silence ended: its peak went to today's maximum
    assert hh.a["in_bmax"][0, inactivity.block_of(T0, OFF), 0] == pytest.approx(3.0)


def test_a_lone_motion_trigger_takes_off_its_likelihood_ratio_only() -> None:
    hh = _home(6.0)
    hh.a["rh_noisy"][0] = hh.a["rh_units"][0] = 1.0  # all signs noisy
    inactivity.on_sign(hh, 0, T0 + 2 * 3600.0, True, False, OFF, True, S)
    w = math.log1p(6.0 / S.noise_per_h)
    assert hh.a["in_S"][0] == pytest.approx(12.0 - w)
    # corroborated by another device: the noise rate is divided by CORROBORATION
    inactivity.on_sign(hh, 0, T0 + 2 * 3600.0 + 60.0, True, True, OFF, True, S)
    w2 = math.log1p(6.0 / (S.noise_per_h / inactivity.CORROBORATION))
    assert hh.a["in_S"][0] == pytest.approx(12.1 - w - w2, abs=1e-6)


def test_a_late_sign_bounds_the_silence_to_what_came_after_it() -> None:
    hh = _home(6.0)
    inactivity.advance(hh, 0, T0 + 3 * 3600.0, OFF, True)
    assert hh.a["in_S"][0] == pytest.approx(18.0)
    # a reliable reading stamped one hour ago arrives late
    inactivity.on_sign(hh, 0, T0 + 2 * 3600.0, False, True, OFF, True, S)
    assert hh.a["in_S"][0] == 0.0  # the person was alive an hour ago: the silence is over


def test_unknown_time_is_skipped_not_scored() -> None:
    hh = _home(6.0)
    inactivity.advance(hh, 0, T0 + 3600.0, OFF, True)
    inactivity.jump(hh, 0, T0 + 5 * 3600.0)
    score = inactivity.score(hh, np.array([0]), np.array([T0 + 6 * 3600.0]), np.array([OFF]))
    assert score[0] == pytest.approx(12.0)  # 1 h before the gap and 1 h after it


def _moments(values: list[float]) -> np.ndarray:
    v = np.asarray(values)
    mom = np.zeros((1, inactivity.BLOCKS, inactivity.POSES, 4))
    mom[0, :, :, 0] = v.shape[0]
    mom[0, :, :, 1] = v.sum()
    mom[0, :, :, 2] = (v * v).sum()
    mom[0, :, :, 3] = v.max()
    return mom


def test_thresholds_from_a_gumbel_fit_of_daily_maxima() -> None:
    vals = [6.0, 7.0, 8.0, 9.0, 10.0, 7.5, 8.5, 9.5, 6.5, 8.0]
    h = inactivity.thresholds(_moments(vals), S)[0, 0, 0]
    mean, sd = np.mean(vals), np.std(vals, ddof=1)
    # ten days of maxima: the spread floor is still raised towards SD_FLOOR_SHORT
    short = (inactivity.SHORT_DAYS - len(vals)) / (inactivity.SHORT_DAYS - 3.0)
    floor = inactivity.SD_FLOOR[0] + short * (inactivity.SD_FLOOR_SHORT - inactivity.SD_FLOOR[0])
    sd = max(sd, floor * mean)
    beta = sd * math.sqrt(6) / math.pi
    mu = mean - inactivity.EULER * beta
    y_a = inactivity._gumbel_y(S.alarm_per_month)
    assert h[1] == pytest.approx(mu + y_a * beta)
    assert h[2] == pytest.approx(S.danger_factor * h[1])
    assert h[0] < h[1]
    # with a month of the same maxima, the plain floor: a lower alarm
    h30 = inactivity.thresholds(_moments(vals * 3), S)[0, 0, 0]
    floor30 = max(np.std(vals * 3, ddof=1), inactivity.SD_FLOOR[0] * mean)
    beta30 = floor30 * math.sqrt(6) / math.pi
    assert h30[1] == pytest.approx(mean - inactivity.EULER * beta30 + y_a * beta30)
    assert h30[1] < h[1]
    # nights in bed: the largest night seen (+30 %) once five nights are known
    hn = inactivity.thresholds(_moments(vals), S)[0, 0, 1]
    assert hn[1] == pytest.approx(max(1.3 * 10.0, inactivity.REST_MIN_ALARM))
    # ... and never below REST_MIN_ALARM, above the floor of a silence when up and about
    low = inactivity.thresholds(_moments([v / 4 for v in vals] * 3), S)[0, 0]
    assert low[1, 1] == pytest.approx(inactivity.REST_MIN_ALARM)
    assert low[0, 1] == pytest.approx(S.min_alarm) and S.min_alarm < inactivity.REST_MIN_ALARM


def test_a_class_with_few_days_borrows_conservatively() -> None:
    mom = _moments([5.0, 6.0, 7.0, 5.5])
    mom[0, 3, 0] = [1.0, 2.0, 4.0, 2.0]  # block 3 awake: one day only
    h = inactivity.thresholds(mom, S)[0]
    assert h[3, 0, 1] == pytest.approx(1.5 * h[:, 0, 1][np.arange(8) != 3].max())

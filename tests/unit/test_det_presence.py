"""Home and away: the door, the return, the outing histogram."""

from __future__ import annotations

import math

import numpy as np

from detectors import presence, rhythm
from detectors.settings import DetectorSettings
from detectors.state import Table

S = DetectorSettings()
T0 = 1_780_290_000.0


def _home() -> Table:
    hh = Table(presence.FIELDS + rhythm.FIELDS)
    hh.add()
    return hh


def test_leaving_is_confirmed_when_nothing_happens_after_the_door() -> None:
    hh = _home()
    assert not presence.on_door(hh, 0, T0)
    assert presence.departures(hh, T0 + 899.0, S).tolist() == []
    assert presence.departures(hh, T0 + 900.0, S).tolist() == [0]
    assert presence.is_away(hh, 0) and hh.a["pr_away"][0] == T0


def test_staying_in_is_seen_from_signs_after_the_door() -> None:
    hh = _home()
    presence.on_door(hh, 0, T0)  # fetched the post
    presence.on_sign(hh, 0, T0 + 60.0, True, True, S)  # the fridge
    assert presence.departures(hh, T0 + 3600.0, S).tolist() == []
    assert not presence.is_away(hh, 0)


def test_spurious_motion_while_away_is_not_a_return() -> None:
    hh = _home()
    presence.on_door(hh, 0, T0)
    presence.departures(hh, T0 + 900.0, S)
    # two corroborating triggers in ten minutes (a pet): still away
    assert not presence.on_sign(hh, 0, T0 + 3600.0, False, False, S)
    assert not presence.on_sign(hh, 0, T0 + 3900.0, False, True, S)
    assert presence.is_away(hh, 0)
    # four triggers within 20 minutes: someone is back (the door message was lost)
    assert not presence.on_sign(hh, 0, T0 + 7200.0, False, False, S)
    assert not presence.on_sign(hh, 0, T0 + 7400.0, False, False, S)
    assert not presence.on_sign(hh, 0, T0 + 7600.0, False, False, S)
    assert presence.on_sign(hh, 0, T0 + 7800.0, False, False, S)
    assert not presence.is_away(hh, 0)
    # the outing (7800 s) is learned, and so is the noise while nobody was home
    assert hh.a["pr_hist"][0].astype(float).sum() == 1.0
    assert hh.a["rh_zn"][0] == 5.0 and hh.a["rh_ze"][0] == np.float32(7800.0 / 3600.0)


def test_coming_back_through_the_door() -> None:
    hh = _home()
    presence.on_door(hh, 0, T0)
    presence.departures(hh, T0 + 900.0, S)
    assert presence.on_door(hh, 0, T0 + 5000.0)
    assert not presence.is_away(hh, 0)
    k = int(np.flatnonzero(hh.a["pr_hist"][0].astype(float))[0])
    assert presence.EDGES[k] <= 5000.0 < presence.EDGES[k + 1]


def test_overdue_thresholds_follow_the_longest_outings() -> None:
    hist = np.zeros((1, presence.BINS), dtype=np.float16)
    hist[0, 6] = 20.0  # ~1.1-1.6 h outings
    h = presence.thresholds(hist, S)[0]
    assert h[0] == S.away_min_hours[0] * 3600.0 and h[1] == S.away_min_hours[1] * 3600.0
    hist[0, 13] = 1.0  # once, a day out of 15-21 h
    h = presence.thresholds(hist, S)[0]
    assert h[1] == presence.EDGES[14] and h[2] == 2 * presence.EDGES[14]
    assert presence.longest_outing(hist[0]) == presence.EDGES[14]


def test_posture() -> None:
    hh = _home()
    presence.on_presence(hh, 0, "bed", True)
    presence.on_presence(hh, 0, "seat", True)
    assert hh.a["pr_posture"][0] == presence.IN_BED | presence.ON_SEAT
    presence.on_presence(hh, 0, "bed", False)
    assert presence.resting(hh, 0)
    presence.up(hh, 0)
    assert not presence.resting(hh, 0)
    assert math.isnan(hh.a["pr_away"][0])

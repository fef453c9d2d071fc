"""Home and away: the door, the return, the outing histogram."""

from __future__ import annotations

import math

import numpy as np

from detectors import inactivity, presence, rhythm, signs
from detectors.settings import DetectorSettings
from detectors.state import Table

S = DetectorSettings()
T0 = 1_780_290_000.0
OFF = 9 * 3600.0


def _home() -> Table:
    hh = Table(presence.FIELDS + rhythm.FIELDS + signs.HH_FIELDS + inactivity.FIELDS)
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
    presence.on_presence(hh, 0, T0, "bed", True)
    presence.on_presence(hh, 0, T0, "seat", True)
    assert hh.a["pr_posture"][0] == presence.IN_BED | presence.ON_SEAT
    presence.on_presence(hh, 0, T0, "bed", False)
    assert presence.resting(hh, 0)
    presence.up(hh, 0, T0)
    assert not presence.resting(hh, 0)
    assert math.isnan(hh.a["pr_away"][0])


def _rest(hh: Table, place: str, sat: float, got_up: float) -> None:
    presence.on_presence(hh, 0, sat, place, True)
    presence.on_presence(hh, 0, got_up, place, False)


def test_the_longest_rest_is_learned_per_place_and_not_from_alerted_silences() -> None:
    hh = _home()
    _rest(hh, "seat", T0, T0 + 3 * 3600.0)
    _rest(hh, "seat", T0 + 4 * 3600.0, T0 + 5 * 3600.0)  # shorter: the longest stays
    _rest(hh, "bed", T0 + 6 * 3600.0, T0 + 14 * 3600.0)
    assert hh.a["pr_rmax"][0].tolist() == [8.0, 3.0]
    hh.a["in_alerted"][0] = True  # a silence that raised an alarm is not normal
    _rest(hh, "seat", T0 + 20 * 3600.0, T0 + 26 * 3600.0)
    assert hh.a["pr_rmax"][0].tolist() == [8.0, 3.0]
    # a lost "off the seat" message: the fridge (a sign that needs the person up) ends it
    hh.a["in_alerted"][0] = False
    presence.on_presence(hh, 0, T0 + 30 * 3600.0, "seat", True)
    presence.up(hh, 0, T0 + 34 * 3600.0)
    assert hh.a["pr_rmax"][0].tolist() == [8.0, 4.0]


def test_resting_far_longer_than_ever_raises_caution_then_alarm() -> None:
    hh = _home()
    hh.a["pr_rmax"][0] = [8.0, 4.0]
    hh.a["rh_rest"][0] = 0  # no usual night known: the seat's own limit holds
    presence.on_presence(hh, 0, T0, "seat", True)
    idx = np.array([0])
    warm = np.array([True])

    def level(hours: float, quiet_h: float | None = None, ok: bool = True) -> int:
        quiet = hours if quiet_h is None else quiet_h
        return int(presence.rest_levels(hh, idx, np.array([T0 + hours * 3600.0]),
                                        np.array([quiet * 3600.0]), warm & ok,
                                        np.array([OFF]))[0])

    # seat: caution at 1.2 x 4 h + 1.5 h = 6.3 h, alarm at 1.5 x 4 h + 1.5 h = 7.5 h
    assert [level(h) for h in (6.2, 6.3, 7.4, 7.5)] == [0, 1, 1, 2]
    # ... only with no confirmed sign for an hour (up and about, the "off" message lost)
    assert level(9.0, quiet_h=0.5) == 0
    assert level(9.0, ok=False) == 0  # not before the warm-up
    hh.a["pr_posture"][0] = presence.IN_BED  # bed: 1.2 x 8 + 3 = 12.6 h, 1.5 x 8 + 3 = 15 h
    assert [level(h) for h in (12.5, 12.6, 14.9, 15.0)] == [0, 1, 1, 2]
    presence.up(hh, 0, T0 + 16 * 3600.0)  # up and about: the score decides, not this rule
    assert level(30.0) == 0


def test_a_rest_on_the_seat_that_reaches_into_the_night_is_held_to_the_beds_limit() -> None:
    hh = _home()
    hh.a["pr_rmax"][0] = [8.0, 4.0]
    hh.a["rh_rest"][0] = rhythm.rest_window(rhythm.initial_cum()[None])[0]  # 23:00-06:00
    sat = T0 - (T0 + OFF) % 86400.0 + 21 * 3600.0  # 21:00 local, a lost "into bed" after
    presence.on_presence(hh, 0, sat, "seat", True)
    lvl = presence.rest_levels(hh, np.array([0]), np.array([sat + 7.5 * 3600.0]),
                               np.array([7.5 * 3600.0]), np.array([True]), np.array([OFF]))
    assert lvl.tolist() == [0]  # 7.5 h: an alarm for the seat alone, not for a night

"""Home and away: the door, the return, the outing histogram."""

from __future__ import annotations

import math

import numpy as np
import pytest

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
    assert presence.is_away(hh, 0) and hh.a["pr_door"][0] == T0


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
    assert hh.a["pr_out"][0][:, 0].astype(float).sum() == 1.0
    assert hh.a["rh_zn"][0] == 5.0 and hh.a["rh_ze"][0] == np.float32(7800.0 / 3600.0)


def test_coming_back_through_the_door() -> None:
    hh = _home()
    presence.on_door(hh, 0, T0, OFF)
    presence.departures(hh, T0 + 900.0, S)
    assert presence.on_door(hh, 0, T0 + 5000.0, OFF)
    assert not presence.is_away(hh, 0)
    # learned in the class of the departure: T0 is 14:00 on a Monday in Seoul (weekday,
    # block 08-16)
    m = hh.a["pr_out"][0].astype(float)
    assert m[:, 0].tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert m[1, 1] == pytest.approx(math.log(5000.0 / 3600.0), abs=1e-3)


def test_a_return_at_night_is_an_hour_the_person_is_out_at() -> None:
    """Back at 02:08 one night: going out at 03:00 another night is not wandering."""
    hh = _home()
    presence.on_door(hh, 0, T0, OFF)  # 14:00 local
    presence.departures(hh, T0 + 900.0, S)
    back = T0 + 12 * 3600.0 + 480.0  # 02:08 local
    assert presence.on_door(hh, 0, back, OFF)
    assert presence.exits(hh.a["pr_exits16"][0])[2] == 1.0
    presence.note_exit(hh, 0, 3, True, True)
    assert not hh.a["pr_night"][0]
    # in a home whose person was never out at night, the same exit is a candidate
    never = _home()
    presence.note_exit(never, 0, 3, True, True)
    assert never.a["pr_night"][0]


def _outings(hh: Table, hours: list[float], local_start: float) -> None:
    """Outings of these lengths on the weekdays before T0's day, starting at `local_start`."""
    day = T0 - ((T0 + OFF) % 86400.0)  # local midnight of a Monday
    back = 0
    for h in hours:
        back += 1
        while (7 - back % 7) % 7 in (5, 6):  # a Saturday or a Sunday: skip
            back += 1
        start = day - back * 86400.0 + local_start * 3600.0
        presence.learn_outing(hh, 0, start, h * 3600.0, OFF)


def _levels_at(hh: Table, local_start: float, warm: bool = True, weekend: bool = False
               ) -> list[float]:
    day = T0 - ((T0 + OFF) % 86400.0) - (2 * 86400.0 if weekend else 0.0)
    h = presence.overdue_thresholds(hh.a["pr_out"][:1], hh.a["pr_back"][:1],
                                    np.array([day + local_start * 3600.0]),
                                    np.array([OFF]), np.array([warm]), S)[0]
    return [round(x / 3600.0, 2) for x in h]


def test_overdue_return_follows_the_persons_own_outings_at_that_time_of_day() -> None:
    hh = _home()
    # weekday morning errands of about an hour, weekday evenings out of about five hours
    _outings(hh, [0.8, 1.0, 1.2, 1.0, 0.9, 1.1, 1.3, 0.9], 10.0)
    _outings(hh, [4.5, 5.0, 5.5, 5.0, 4.8], 18.5)
    morning = _levels_at(hh, 10.5)
    evening = _levels_at(hh, 19.0)
    # a morning errand: caution and alarm at their floors, 4 h and 6 h (it was 16 h)
    assert morning == [presence.OUT_MIN_H[0], presence.OUT_MIN_H[1], 2 * presence.OUT_MIN_H[1]]
    # an evening out keeps the broad levels (evenings out have a heavy tail: a night out)
    assert evening[:2] == [S.away_min_hours[0], S.away_min_hours[1]]
    # a weekend morning, or a night, with no outings of its own: the broad levels
    for broad in (_levels_at(hh, 10.5, weekend=True), _levels_at(hh, 3.0)):
        assert broad[:2] == [S.away_min_hours[0], S.away_min_hours[1]]
    # while warming up: the fixed tiers
    assert _levels_at(hh, 10.5, warm=False) == list(S.away_fixed_hours)


def test_overdue_return_with_too_few_outings_falls_back_to_the_broad_levels() -> None:
    hh = _home()
    _outings(hh, [1.0, 1.0], 10.0)
    assert _levels_at(hh, 10.5)[:2] == [S.away_min_hours[0], S.away_min_hours[1]]
    hh2 = _home()
    _outings(hh2, [20.0, 1.0], 10.0)  # once a long day away: never below 1.25 x it
    assert _levels_at(hh2, 10.5)[1] == pytest.approx(25.0, abs=0.1)


def test_a_long_day_out_fades_from_the_longest_outing() -> None:
    hh = _home()
    _outings(hh, [1.0] * 10 + [12.0], 10.0)
    before = _levels_at(hh, 10.5)[1]
    assert before >= 1.25 * 12.0 - 0.1
    for _ in range(28):
        presence.new_day(hh, np.array([0]), np.array([math.exp(-1 / S.memory_days)]), S)
    after = _levels_at(hh, 10.5)[1]
    assert after < 0.75 * before


def test_posture() -> None:
    hh = _home()
    presence.on_presence(hh, 0, T0, "bed", True)
    presence.on_presence(hh, 0, T0, "seat", True)
    assert hh.a["pr_posture"][0] == presence.IN_BED | presence.ON_SEAT
    presence.on_presence(hh, 0, T0, "bed", False)
    assert presence.resting(hh, 0)
    presence.up(hh, 0, T0)
    assert not presence.resting(hh, 0)
    assert not presence.is_away(hh, 0)


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


def test_an_overdue_alarm_in_the_persons_night_comes_on_time() -> None:
    """Afternoon outings of 7 h on weekdays (back at 22:00): an alarm at ~23:35 by the usual
    return time, in the person's night (23:00-06:00). It comes on time, whether or not a
    lone motion trigger came from the home meanwhile (it once waited for the night's end)."""
    hh = _home()
    _outings(hh, [7.0] * 8, 15.0)
    hh.a["rh_rest"][0] = rhythm.rest_window(rhythm.initial_cum()[None])[0]
    day = T0 - ((T0 + OFF) % 86400.0)  # Monday 00:00 local
    hh.a["pr_door"][0] = day + 15.5 * 3600.0
    hh.a["pr_is_away"][0] = True
    h = _levels_at(hh, 15.5)
    assert 15.5 + h[1] > 23.0 and 15.5 + h[0] < 23.0  # the alarm falls in the night

    def level(hours_after_midnight: float) -> int:
        now = np.array([day + hours_after_midnight * 3600.0])
        return int(presence.overdue_levels(hh, np.array([0]), now, np.array([True]),
                                           np.array([OFF]), S)[0])

    assert level(15.5 + h[0] - 0.1) == 0 and level(15.5 + h[0] + 0.1) == 1
    assert level(15.5 + h[1] - 0.1) == 1 and level(15.5 + h[1] + 0.1) == 2
    # a motion trigger at home at 22:40, too weak to be a return, changes nothing
    assert not presence.on_sign(hh, 0, day + 22.67 * 3600.0, False, False, S, OFF)
    assert presence.is_away(hh, 0)
    assert level(15.5 + h[1] + 0.1) == 2 and level(24 + 5.5) == 2


def _away_since(hh: Table, start: float) -> None:
    hh.a["pr_door"][0] = start
    hh.a["pr_is_away"][0] = True


def _level(hh: Table, now: float) -> int:
    return int(presence.overdue_levels(hh, np.array([0]), np.array([now]), np.array([True]),
                                       np.array([OFF]), S)[0])


def _worker() -> Table:
    """Leaves at 06:30 on weekdays and is back between 17:15 and 18:00 (nights 23-06)."""
    hh = _home()
    hh.a["rh_rest"][0] = rhythm.rest_window(rhythm.initial_cum()[None])[0]
    _outings(hh, [h - 6.5 for h in (17.25, 17.5, 17.75, 18.0, 17.5, 17.25, 18.0, 17.75)], 6.5)
    return hh


def test_a_worker_back_by_18_on_weekdays_is_overdue_by_the_evening_not_on_a_saturday(
) -> None:
    hh = _worker()
    n, mean, _var = hh.a["pr_back"][0, 0].astype(float)  # weekday, departures 00-08
    assert n == 8.0 and mean == pytest.approx(17.625, abs=0.02)  # float16
    monday = T0 - ((T0 + OFF) % 86400.0)
    _away_since(hh, monday + 6.5 * 3600.0)
    at = [_level(hh, monday + h * 3600.0) for h in (17.5, 19.0, 19.75)]
    # usually back by 18:00: an alarm at ~19:20 (the length alone, with no learned rule for
    # 06:30 departures, said 16 h: 22:30); a caution from 18:00, the longest day out
    assert at == [0, 1, 2]
    assert 6.5 + _levels_at(hh, 6.5)[1] == pytest.approx(19.44, abs=0.05)
    # a Saturday outing of the usual length: its class (weekend) has no long outings of its
    # own, so the broad levels hold, and they are not reached
    saturday = monday - 2 * 86400.0
    _away_since(hh, saturday + 6.5 * 3600.0)
    assert [_level(hh, saturday + h * 3600.0) for h in (17.75, 19.75, 22.0)] == [0, 1, 1]
    assert _level(hh, saturday + 22.6 * 3600.0) == 2  # 16 h away


def test_errands_do_not_teach_the_return_time_and_a_late_start_gets_the_floor() -> None:
    hh = _home()
    _outings(hh, [1.0, 1.5, 2.0, 1.2, 0.8, 1.5], 10.0)  # errands: under RET_LONG_H
    assert hh.a["pr_back"][0, :, 0].sum() == 0.0
    assert _levels_at(hh, 10.5)[:2] == [presence.OUT_MIN_H[0], presence.OUT_MIN_H[1]]
    # days out from 09:00 back at ~17:00: an outing that began at 15:30 is not overdue at
    # 18:30 because the others were back by 17:00; it gets the floors (4 h, 6 h)
    _outings(hh, [8.0, 7.75, 8.25, 8.0], 9.0)
    h = presence.return_thresholds(hh.a["pr_back"][:1], np.array([T0 + 1.5 * 3600.0]),
                                   np.array([OFF]))[0] / 3600.0  # Monday 15:30
    assert h.tolist() == [presence.OUT_MIN_H[0], presence.OUT_MIN_H[1]]
    h = presence.return_thresholds(hh.a["pr_back"][:1], np.array([T0 - 5 * 3600.0]),
                                   np.array([OFF]))[0] / 3600.0  # Monday 09:00
    sd = math.sqrt((4 * 0.03125 + 3.0) / 7.0 * (1.0 + 1.0 / 4))  # shrunk, then widened
    assert 9.0 + h[1] == pytest.approx(17.0 + 3.0 * sd, abs=0.05)
    # a single day out is not yet a usual return time
    hh2 = _home()
    _outings(hh2, [8.0], 9.0)
    assert presence.return_thresholds(hh2.a["pr_back"][:1], np.array([T0 - 5 * 3600.0]),
                                      np.array([OFF]))[0].tolist() == [math.inf, math.inf]


def test_an_evening_out_until_two_in_the_morning_is_not_an_alarm() -> None:
    hh = _home()  # no usual night known: nothing waits for a morning
    _outings(hh, [2.0, 3.0, 6.0, 2.5, 6.0, 2.0], 20.0)  # some evenings until 02:00
    assert hh.a["pr_back"][0, :, 0].sum() == 0.0  # evenings keep the length rule
    monday = T0 - ((T0 + OFF) % 86400.0)
    _away_since(hh, monday + 20.0 * 3600.0)
    # 02:00 and 04:30: at most a caution (the longest evening out was 6 h)
    assert [_level(hh, monday + h * 3600.0) for h in (25.5, 26.5, 28.5)] == [0, 1, 1]
    assert _level(hh, monday + 35.9 * 3600.0) == 1
    assert _level(hh, monday + 36.0 * 3600.0) == 2  # the broad 16 h


def test_an_outing_that_raised_an_alarm_teaches_nothing() -> None:
    hh = _worker()
    before = (hh.a["pr_out"][0].copy(), hh.a["pr_back"][0].copy())
    monday = T0 - ((T0 + OFF) % 86400.0)
    presence.on_door(hh, 0, monday + 6.5 * 3600.0, OFF)
    presence.departures(hh, monday + 7.0 * 3600.0, S)
    hh.a["pr_alerted"][0] = True  # the engine marks an outing that reached an alarm
    assert presence.on_door(hh, 0, monday + 23.0 * 3600.0, OFF)  # back at 23:00
    np.testing.assert_array_equal(hh.a["pr_out"][0], before[0])
    np.testing.assert_array_equal(hh.a["pr_back"][0], before[1])
    # the next day's ordinary working day is learned (back at 17:30)
    presence.on_door(hh, 0, monday + 30.5 * 3600.0, OFF)
    presence.departures(hh, monday + 31.0 * 3600.0, S)
    assert presence.on_door(hh, 0, monday + 41.5 * 3600.0, OFF)
    assert hh.a["pr_back"][0, 0, 0].astype(float) == 9.0

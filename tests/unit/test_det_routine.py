"""A missed routine: not up by long after the person's usual waking time."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors import routine
from detectors.state import Table

OFF = 9 * 3600.0
#: local midnight (Seoul) of a Monday
MIDNIGHT = 1_780_239_600.0
H = 3600.0


def _home() -> Table:
    hh = Table(routine.FIELDS)
    hh.add()
    return hh


def _at(day: int, hour: float) -> float:
    return MIDNIGHT + day * 86400.0 + hour * H


def _learn(hh: Table, wakes: list[float]) -> None:
    for d, w in enumerate(wakes):
        routine.on_silence_end(hh, 0, _at(d - 1, 22.5), _at(d, w), OFF, True, True)
        routine.new_day(hh, np.array([0]), np.array([1.0]), np.array([np.nan]),
                        np.array([OFF]))


def _level(hh: Table, start: float, now: float, warm: bool = True) -> int:
    """The last confirmed sign at `start`; the level at `now`."""
    routine.on_confirmed(hh, 0, start, OFF)
    return int(routine.levels(hh, np.array([0]), np.array([now]), np.array([warm]))[0])


def test_the_waking_time_is_the_end_of_the_last_night_silence_of_the_morning() -> None:
    hh = _home()
    # in bed at 22:30, the toilet at 03:10 (a silence of 4.7 h), back in bed, up at 07:05
    routine.on_silence_end(hh, 0, _at(-1, 22.5), _at(0, 3.17), OFF, True, True)
    routine.on_silence_end(hh, 0, _at(0, 3.25), _at(0, 7.08), OFF, True, True)
    # then the day: short silences, and an afternoon nap that did not begin at rest hours
    routine.on_silence_end(hh, 0, _at(0, 9.0), _at(0, 9.5), OFF, True, True)
    routine.on_silence_end(hh, 0, _at(0, 13.0), _at(0, 15.5), OFF, False, False)
    assert float(hh.a["wk_today"][0]) == pytest.approx(7.08, abs=0.01)
    routine.new_day(hh, np.array([0]), np.array([1.0]), np.array([np.nan]), np.array([OFF]))
    m = hh.a["wk_m"][0].astype(float)
    assert m[0] == 1.0 and m[1] == pytest.approx(7.08, abs=0.01) and math.isnan(
        hh.a["wk_today"][0])


def test_a_nap_later_in_the_day_is_not_waking_up() -> None:
    hh = _home()
    # up at 05:45; a nap on the seat from 12:00 to 13:26 (resting, but not in the usual rest
    # hours) does not move the waking time to 13:26
    routine.on_silence_end(hh, 0, _at(-1, 21.0), _at(0, 5.75), OFF, True, True)
    routine.on_silence_end(hh, 0, _at(0, 12.0), _at(0, 13.43), OFF, True, False)
    assert float(hh.a["wk_today"][0]) == pytest.approx(5.75, abs=0.01)
    # back to bed 40 min after getting up, up again at 07:30: that is the waking time
    routine.on_silence_end(hh, 0, _at(0, 6.4), _at(0, 7.5), OFF, True, False)
    assert float(hh.a["wk_today"][0]) == pytest.approx(7.5, abs=0.01)
    # and a silence that began in the usual rest hours moves it whenever it began
    routine.on_silence_end(hh, 0, _at(0, 9.0), _at(0, 10.5), OFF, True, True)
    assert float(hh.a["wk_today"][0]) == pytest.approx(10.5, abs=0.01)


def test_a_night_silence_long_past_the_latest_waking_time_is_an_alarm() -> None:
    hh = _home()
    _learn(hh, [7.0, 6.8, 7.2, 7.1, 6.9, 7.4, 7.0])
    _mean, alarm, known = routine.deadlines(hh.a["wk_m"][:1].astype(np.float64))
    assert known[0]
    # the latest recent waking (7.4) + 1.25 h, as the spread is small
    assert alarm[0] == pytest.approx(7.4 + routine.ALARM_PAD_H, abs=0.02)
    night = _at(7, -1.0)  # silent since 23:00
    assert _level(hh, night, _at(7, 8.5)) == 0  # a lie-in
    assert _level(hh, night, _at(7, 8.7)) == 2
    assert _level(hh, night, _at(7, 8.7), warm=False) == 0
    # a silence that began in the morning after waking is the score's business
    assert _level(hh, _at(7, 7.9), _at(7, 12.0)) == 0
    # nor is a silence since the afternoon before judged before the next morning
    assert _level(hh, _at(6, 15.0), _at(6, 23.0)) == 0
    # the deadline is refitted at the day's rollover for a silence still going on
    routine.on_confirmed(hh, 0, night, OFF)
    routine.new_day(hh, np.array([0]), np.array([1.0]), np.array([night]), np.array([OFF]))
    assert int(routine.levels(hh, np.array([0]), np.array([_at(7, 8.7)]),
                              np.array([True]))[0]) == 2


def test_an_irregular_sleeper_gets_a_later_deadline_and_few_days_none() -> None:
    hh = _home()
    _learn(hh, [6.0, 9.5, 7.0, 10.5, 8.0, 6.5, 9.0])
    mean, alarm, _known = routine.deadlines(hh.a["wk_m"][:1].astype(np.float64))
    assert alarm[0] >= mean[0] + routine.ALARM_Z * 1.5
    assert _level(hh, _at(7, -1.0), _at(7, 11.5)) == 0
    few = _home()
    _learn(few, [7.0, 7.0, 7.0])
    assert _level(few, _at(3, -1.0), _at(3, 13.0)) == 0


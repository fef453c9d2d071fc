"""A missed routine: the person did not get up by the time they (nearly) always do.

Each morning the engine notes when a night's silence ended: the first *confirmed* sign of
life (a reliable one, or a burst of motion; not a lone trigger, which a pet or the sun makes)
after at least `NIGHT_MIN_H` without one, when that silence began while resting or in the
person's usual rest hours, and ended between 03:00 and 14:00 local time; a later such end
of the day wins, so a toilet visit at 03:00 is not waking, if its silence began in the usual
rest hours or within `REWAKE_GAP_H` of the waking so far (back to bed), not a nap later in
the day (on the training homes one nap from 12:00 to 13:26 had put a 05:45 riser's alarm
past noon for weeks). The waking hours of past days are
kept as decayed moments (count, mean, spread, and the latest recent one). A silence that
began the evening or night before and is still going on well past the usual waking time is
then evidence on its own: an alarm once it is later than the person has got up for a long
while (`levels`). No caution: a lie-in is normal, and the score raises its own cautions.
This catches a collapse in bed or at night in homes where the score grows slowly (no bed
sensor, few sensors, spurious triggers taking some of it off). In a home whose bed or seat
sensor shows the person resting, the silence this rule judges ends only at a sign that noise
can hardly make (`on_confirmed` is called for a reliable sign, a sign that brings the score
back to 0, or a strong burst: `signs.strong`); elsewhere any confirmed sign ends it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.state import REL_BASE, Field, Table

NAN = math.nan
#: a silence this long (hours) that ends in the morning is a night's sleep; once one has
#: ended today, a later one of REWAKE_MIN_H is too (back to bed after the toilet at 05:30)
NIGHT_MIN_H, REWAKE_MIN_H = 2.0, 1.0
#: a waking time is between these local hours
WAKE_FROM_H, WAKE_TO_H = 3.0, 14.0
#: a later silence moves today's waking time only if it began in the usual rest hours or at
#: most this long after that waking (back to bed after the toilet), not a nap at noon
REWAKE_GAP_H = 1.0
#: waking days on record before the rule applies
MIN_DAYS = 5.0
#: the spread of waking times is taken as at least this (hours)
SD_FLOOR_H = 0.5
#: alarm at the later of the mean + ALARM_Z x spread and the latest recent waking time +
#: ALARM_PAD_H (a lie-in an hour later than ever is not an alarm). (Round 5 tried the latest
#: + ALARM_PAD_H alone once 14 mornings are on record, as the spread of a man up at 05:30 on
#: working days and at 10:00 on the others overstates how late he gets up: on the training
#: homes his nights went from 4.91 to 4.28 h after the usual waking time with the same
#: false alarms, but on held-out seed 13 it raised two more, late mornings of two men.)
ALARM_Z, ALARM_PAD_H = 2.5, 1.25
#: the silence must have begun at least this long before the usual waking time (a night),
#: and at most NIGHT_SPAN_H before it (an evening: 16 h before the *deadline* left out
#: Ordonez A's evenings, whose deadline is 14:50, unless noise broke the silence at night)
BEFORE_H, NIGHT_SPAN_H = 1.0, 18.0

FIELDS = (
    #: decayed moments of the local waking hour: days, sum, sum of squares, latest (decayed
    #: towards the mean)
    Field("wk_m", "float16", (4,)),
    #: today's waking hour so far (NaN: none yet)
    Field("wk_today", "float16", fill=NAN),
    #: from the moments, refitted daily: the alarm's local hour (NaN: too few mornings), and
    #: how long before it a silence must have begun to count (hours)
    Field("wk_alarm", "float16", fill=NAN),
    Field("wk_lead", "float16", fill=NAN),
    #: when the current silence (since the last confirmed sign) becomes an alarm, in relative
    #: seconds (`state.rel`; NaN: never), set when it begins and when the deadline is refitted
    Field("wk_due", "float32", fill=NAN),
)


def _hour(t: float, offset: float) -> float:
    return ((t + offset) % 86400.0) / 3600.0


def on_silence_end(hh: Table, i: int, start: float, end: float, offset: float,
                   rested: bool, in_rest: bool) -> None:
    """A silence from `start` to `end` ended with a sign of life; `rested`: it began while
    resting or in the person's usual rest hours; `in_rest`: in the usual rest hours."""
    today = float(hh.a["wk_today"][i])
    least = NIGHT_MIN_H if math.isnan(today) else REWAKE_MIN_H
    if not rested or math.isnan(start) or end - start < least * 3600.0:
        return
    if not (math.isnan(today) or in_rest
            or today <= _hour(start, offset) <= today + REWAKE_GAP_H):
        return  # a nap or a doze later in the day, not going back to bed
    h = _hour(end, offset)
    if WAKE_FROM_H <= h < WAKE_TO_H:
        hh.a["wk_today"][i] = h


def new_day(hh: Table, idx: NDArray[np.int64], gamma: NDArray[np.float64],
            since: NDArray[np.float64], offset: NDArray[np.float64]) -> None:
    """Decay the moments by `gamma` and add yesterday's waking hour, if any; refit the
    deadline, and the due time of the silences that began at `since` (epoch seconds, per
    household of `idx`; NaN: none)."""
    if idx.shape[0] == 0:
        return
    a = hh.a
    m = a["wk_m"][idx].astype(np.float64)
    m[:, :3] *= gamma[:, None]
    mean = m[:, 1] / np.maximum(m[:, 0], 1e-9)
    m[:, 3] = np.where(m[:, 0] > 0.05, mean + (m[:, 3] - mean) * gamma, 0.0)
    x = a["wk_today"][idx].astype(np.float64)
    got = ~np.isnan(x)
    x = np.nan_to_num(x)
    m[:, 3] = np.where(got, np.where(m[:, 0] > 0.05, np.maximum(m[:, 3], x), x), m[:, 3])
    m[:, 0] += got
    m[:, 1] += x
    m[:, 2] += x * x
    a["wk_m"][idx] = m.astype(np.float16)
    a["wk_today"][idx] = NAN
    mean, alarm, known = deadlines(a["wk_m"][idx].astype(np.float64))
    a["wk_alarm"][idx] = np.where(known, alarm, NAN)
    a["wk_lead"][idx] = np.where(known, alarm - mean + BEFORE_H, NAN)
    a["wk_due"][idx] = _due(a["wk_alarm"][idx], a["wk_lead"][idx], since, offset)


def _due(alarm: NDArray[Any], lead: NDArray[Any], start: NDArray[np.float64],
         offset: NDArray[np.float64]) -> NDArray[np.float32]:
    """Relative seconds at which a silence that began at `start` becomes an alarm: the first
    `alarm` local hour after it began, if it began at least `lead` (BEFORE_H before the
    usual waking time) and at most NIGHT_SPAN_H before the usual waking time; NaN
    otherwise."""
    s_loc = (start + offset) / 3600.0
    began = (alarm.astype(np.float64) - (s_loc % 24.0)) % 24.0
    began = np.where(began == 0.0, 24.0, began)
    lead64 = lead.astype(np.float64)
    ok = (began >= lead64) & (began <= NIGHT_SPAN_H + lead64 - BEFORE_H) & ~np.isnan(start)
    out: NDArray[np.float32] = np.where(ok, start - REL_BASE + began * 3600.0, NAN).astype(
        np.float32)
    return out


def on_confirmed(hh: Table, i: int, t: float, offset: float) -> None:
    """A confirmed sign of life at `t`: a new silence begins; when would it be an alarm?"""
    a = hh.a
    a["wk_due"][i] = _due(a["wk_alarm"][i : i + 1], a["wk_lead"][i : i + 1], np.array([t]),
                          np.array([offset]))[0]


def deadlines(m: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                               NDArray[np.bool_]]:
    """(mean, alarm) local hours of waking, and whether enough days are known."""
    n = m[:, 0]
    mean = m[:, 1] / np.maximum(n, 1e-9)
    sd = np.maximum(np.sqrt(np.maximum(m[:, 2] / np.maximum(n, 1e-9) - mean**2, 0.0)),
                    SD_FLOOR_H)
    alarm = np.maximum(mean + ALARM_Z * sd, m[:, 3] + ALARM_PAD_H)
    return mean, alarm, n >= MIN_DAYS


def levels(hh: Table, idx: NDArray[np.int64], now: NDArray[np.float64],
           warm: NDArray[np.bool_]) -> NDArray[np.int8]:
    """0 or 2 (alarm) per household: the silence since the last confirmed sign (which began
    the evening or night before) has gone on past its due time (`wk_due`)."""
    due = hh.a["wk_due"][idx].astype(np.float64) + REL_BASE
    out: NDArray[np.int8] = np.where(warm & (now >= due), 2, 0).astype(np.int8)
    return out

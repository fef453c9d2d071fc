"""Home or away: leaving through the exterior door turns silence into an expected return.

After an exterior door event the person is *pending*: home evidence (a reliable sign counts
1.5, a motion trigger 0.5) reaching `home_units` means they stayed; none within
`away_confirm_s` means they left at the door time. While away, silence raises no inactivity
alarm; instead the outing's length is compared with the person's own outings (a decayed
histogram of durations): `overdue_return`. A return is a door event, a reliable sign, or four
motion triggers within 20 minutes (spurious triggers from pets or sunlight are not a return;
the hours with nobody home teach the home's noise rate). An exit during the person's usual
rest hours, at an hour they never go out at, that is not followed by a return is `wandering`;
no exit at all for many days is `isolation` (a case-management signal, caution).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors import rhythm
from detectors.settings import DetectorSettings
from detectors.state import REL_BASE, Field, Table, rel

NAN = math.nan
BINS = 16
#: bin k of the outing histogram starts at 10 min x 2^(k/2) (the last is open-ended, ~31 h)
EDGES = 600.0 * 2.0 ** (np.arange(BINS + 1) / 2.0)
RETURN_WINDOW_S = 1200.0
#: home evidence of one motion trigger. Not more when another device corroborates it: with
#: spurious triggers an hour in a four-PIR home, two of them within ten minutes are common,
#: three or four within a quarter of an hour are not
NOISY_UNITS = (0.5, 0.4)

#: posture bits: the bed, or a seat, is occupied (pressure sensors)
IN_BED, ON_SEAT = 1, 2

#: rest-too-long safety net: caution and alarm at these multiples of the longest recent rest
#: plus a pad (hours; in bed, seat), learned only once a rest of REST_MIN_H has been seen.
#: Wide on purpose: real rests are heavy-tailed (Ordonez A once sat 8.6 h in front of the TV
#: after a month whose longest sit was about 5.5 h); nights are judged by the score first
REST_CAUTION, REST_ALARM, REST_MIN_H, REST_QUIET_H = 1.2, 1.5, 1.0, 1.0
REST_PAD_H = (3.0, 1.5)
#: the longest recent rest fades by this factor a day (a long-past long night stops counting)
REST_FADE = 0.98

FIELDS = (
    Field("pr_posture", "uint8"),
    #: resting (bed or seat) since (relative seconds, see state.rel)
    Field("pr_psince", "float32", fill=NAN),
    #: longest recent rest (hours) in bed and on the seat
    Field("pr_rmax", "float16", (2,)),
    Field("pr_door", "float64", fill=NAN),
    Field("pr_pending", "bool"),
    Field("pr_units", "float32"),
    #: away since (NaN: home)
    Field("pr_away", "float64", fill=NAN),
    Field("pr_ret_units", "float32"),
    Field("pr_ret_t", "float64", fill=NAN),
    Field("pr_hist", "float16", (BINS,)),
    #: overdue-return thresholds in seconds (caution, alarm, danger)
    Field("pr_h", "float32", (3,), fill=1e9),
    #: last confirmed exit (relative seconds, see state.rel)
    Field("pr_last_exit", "float32", fill=NAN),
    #: decayed count of exits per local hour (is this an hour the person goes out at?)
    Field("pr_exits", "float16", (24,)),
    #: the current outing began in the person's rest hours (a wandering candidate)
    Field("pr_night", "bool"),
    Field("pr_alerted", "bool"),
    Field("pr_level", "int8"),
    Field("pr_wlevel", "int8"),
    Field("pr_ilevel", "int8"),
)


def on_presence(hh: Table, i: int, t: float, place: object, occupied: bool) -> None:
    bit = ON_SEAT if place == "seat" else IN_BED
    a = hh.a
    p = int(a["pr_posture"][i])
    if occupied and not p:
        a["pr_psince"][i] = rel(t)
    elif not occupied and p & bit:
        _got_up(hh, i, t, bit)
    a["pr_posture"][i] = (p | bit) if occupied else (p & ~bit)


def up(hh: Table, i: int, t: float) -> None:
    """A reliable sign that needs the person on their feet (a door, the fridge, a flush):
    whatever the pressure sensors last said (a message may have been lost), they are up."""
    p = int(hh.a["pr_posture"][i])
    for bit in (IN_BED, ON_SEAT):
        if p & bit:
            _got_up(hh, i, t, bit)
    hh.a["pr_posture"][i] = 0


def _got_up(hh: Table, i: int, t: float, bit: int) -> None:
    """The person got up from the bed or the seat at `t`: the time they had spent there
    joins that place's longest rest (unless the silence raised an escalated alert: an alarm
    is not learned as normal)."""
    a = hh.a
    span = (rel(t) - float(a["pr_psince"][i])) / 3600.0
    if math.isnan(span) or span <= 0.0 or a["in_alerted"][i]:
        return
    k = 0 if bit == IN_BED else 1
    a["pr_rmax"][i, k] = min(max(float(a["pr_rmax"][i, k]), span), 48.0)


def rest_levels(hh: Table, idx: NDArray[np.int64], now: NDArray[np.float64],
                silence: NDArray[np.float64], warm: NDArray[np.bool_],
                offset: NDArray[np.float64]) -> NDArray[np.int8]:
    """Resting far longer than ever: in bed or on the seat for REST_CAUTION (caution) or
    REST_ALARM (alarm) x the longest such rest this person has had recently, plus a pad,
    with no confirmed sign of life for REST_QUIET_H (someone up and about whose "off the
    seat" message was lost soon makes a confirmed sign). A safety net for what the score
    cannot see: a person who collapsed in the armchair, with a pet or the sun still tripping
    a motion sensor now and then (each trip takes a little off the score), would otherwise
    be found only by the 24 h net. A rest that reaches into the person's usual night is
    held to the bed's limit, wherever it is (the "into bed" message may have been lost)."""
    a = hh.a
    post = a["pr_posture"][idx].astype(np.int64)
    rmax = a["pr_rmax"][idx].astype(np.float64)
    since = a["pr_psince"][idx].astype(np.float64) + REL_BASE
    night = rhythm.overlaps_rest(a["rh_rest"][idx], np.nan_to_num(since, nan=0.0), now,
                                 offset)
    bed = ((post & IN_BED) != 0) | night
    seat = (post & ON_SEAT) != 0
    limit = np.maximum(np.where(bed, rmax[:, 0], 0.0), np.where(seat, rmax[:, 1], 0.0))
    pad = np.where(bed, REST_PAD_H[0], REST_PAD_H[1])
    hours = (now - since) / 3600.0
    quiet = np.nan_to_num(silence, nan=0.0) >= REST_QUIET_H * 3600.0
    known = warm & (post != 0) & (limit >= REST_MIN_H) & quiet & ~np.isnan(hours)
    hours = np.nan_to_num(hours, nan=0.0)
    lvl = ((hours >= REST_CAUTION * limit + pad).astype(np.int8)
           + (hours >= REST_ALARM * limit + pad))
    return np.where(known, lvl, 0).astype(np.int8)


def resting(hh: Table, i: int) -> bool:
    return bool(hh.a["pr_posture"][i])


def is_away(hh: Table, i: int) -> bool:
    return not math.isnan(hh.a["pr_away"][i])


def _come_back(hh: Table, i: int, t: float) -> None:
    a = hh.a
    since = float(a["pr_away"][i])
    if t > since:  # hours with nobody home: what motion came meanwhile was noise
        a["rh_ze"][i] += (t - since) / 3600.0
    if not a["pr_alerted"][i] and t > since:
        k = int(np.clip(np.searchsorted(EDGES, t - since, side="right") - 1, 0, BINS - 1))
        a["pr_hist"][i, k] = float(a["pr_hist"][i, k]) + 1.0
    a["pr_away"][i] = NAN
    a["pr_alerted"][i] = False
    a["pr_level"][i] = 0
    a["pr_wlevel"][i] = 0
    a["pr_ret_units"][i] = 0.0


def on_door(hh: Table, i: int, t: float) -> bool:
    """An exterior door event. Returns True when it ends an outing (the person is back)."""
    a = hh.a
    back = False
    if is_away(hh, i) and t >= a["pr_away"][i]:
        _come_back(hh, i, t)
        back = True
    d = float(a["pr_door"][i])
    if math.isnan(d) or t >= d:
        a["pr_door"][i] = t
        a["pr_pending"][i] = True
        a["pr_units"][i] = 0.0
    return back


def on_sign(hh: Table, i: int, t: float, reliable: bool, corroborated: bool,
            s: DetectorSettings) -> bool:
    """A counted sign that is not the exterior door. Returns True when it ends an outing."""
    a = hh.a
    away = is_away(hh, i)
    units = 1.5 if reliable else NOISY_UNITS[1 if away else 0]
    if away:
        if t < a["pr_away"][i]:
            return False
        rt = float(a["pr_ret_t"][i])
        if math.isnan(rt) or t - rt > RETURN_WINDOW_S:
            a["pr_ret_t"][i] = t
            a["pr_ret_units"][i] = 0.0
        a["pr_ret_units"][i] += units
        if a["pr_ret_units"][i] >= s.home_units:
            _come_back(hh, i, t)
            return True
        if not reliable:
            a["rh_zn"][i] += 1.0
        return False
    if a["pr_pending"][i] and t > a["pr_door"][i]:
        a["pr_units"][i] += units
        if a["pr_units"][i] >= s.home_units:
            a["pr_pending"][i] = False
    return False


def departures(hh: Table, now: float, s: DetectorSettings) -> NDArray[np.int64]:
    """Households whose door event has had no home evidence for `away_confirm_s`: they
    left at the door time. Marks them away and returns their indices."""
    a = hh.a
    n = hh.n
    pend = a["pr_pending"][:n]
    if not pend.any():
        return np.zeros(0, dtype=np.int64)
    left = np.flatnonzero(pend & (now - a["pr_door"][:n] >= s.away_confirm_s)
                          & (a["pr_units"][:n] < s.home_units))
    a["pr_pending"][left] = False
    a["pr_away"][left] = a["pr_door"][left]
    a["pr_last_exit"][left] = a["pr_door"][left] - REL_BASE
    a["pr_ret_units"][left] = 0.0
    a["pr_ret_t"][left] = NAN
    a["pr_alerted"][left] = False
    a["pr_level"][left] = 0
    a["pr_wlevel"][left] = 0
    a["pr_ilevel"][left] = 0
    return left


def note_exit(hh: Table, i: int, hour: int, rest: bool, warm: bool) -> None:
    """A confirmed exit at local `hour`: a wandering candidate when it falls in the person's
    main rest window at an hour they (almost) never go out at; then count it."""
    ex = hh.a["pr_exits"][i].astype(np.float32)
    usual = float(ex[(hour - 1) % 24] + ex[hour] + ex[(hour + 1) % 24])
    hh.a["pr_night"][i] = warm and rest and usual < 0.5
    hh.a["pr_exits"][i, hour] = float(ex[hour]) + 1.0


def overdue_levels(hh: Table, idx: NDArray[np.int64], now: NDArray[np.float64],
                   warm: NDArray[np.bool_], s: DetectorSettings) -> NDArray[np.int8]:
    a = hh.a
    dur = now - a["pr_away"][idx]
    fixed = np.asarray(s.away_fixed_hours, dtype=np.float64) * 3600.0
    h = np.where(warm[:, None], a["pr_h"][idx].astype(np.float64), fixed[None, :])
    out: NDArray[np.int8] = ((dur >= h[:, 0]).astype(np.int8) + (dur >= h[:, 1])
                             + (dur >= h[:, 2])).astype(np.int8)
    return out


def wandering_levels(hh: Table, idx: NDArray[np.int64], now: NDArray[np.float64],
                     warm: NDArray[np.bool_], s: DetectorSettings) -> NDArray[np.int8]:
    a = hh.a
    dur = now - a["pr_away"][idx]
    lvl = (dur >= s.away_confirm_s).astype(np.int8) + (dur >= s.wandering_alarm_s)
    return np.where(warm & a["pr_night"][idx], lvl, 0).astype(np.int8)


def isolation_levels(hh: Table, idx: NDArray[np.int64], now: float, created: NDArray[Any],
                     s: DetectorSettings) -> NDArray[np.int8]:
    """Days since the last exit (or since first seen), both in relative seconds."""
    last = hh.a["pr_last_exit"][idx]
    since = np.where(np.isnan(last), created, last).astype(np.float64)
    out: NDArray[np.int8] = (now - REL_BASE - since >= s.isolation_days * 86400.0).astype(
        np.int8)
    return out


def new_day(hh: Table, idx: NDArray[np.int64], gamma: NDArray[np.float64],
            s: DetectorSettings) -> None:
    """Decay the outing histogram and refit the overdue thresholds."""
    a = hh.a
    if idx.shape[0] == 0:
        return
    a["pr_hist"][idx] = (a["pr_hist"][idx].astype(np.float32) * gamma[:, None]).astype(
        np.float16)
    a["pr_exits"][idx] = (a["pr_exits"][idx].astype(np.float32) * gamma[:, None]).astype(
        np.float16)
    a["pr_h"][idx] = thresholds(a["pr_hist"][idx], s)
    a["pr_rmax"][idx] = (a["pr_rmax"][idx].astype(np.float32)
                         * (REST_FADE ** (-np.log(gamma) * s.memory_days))[:, None]
                         ).astype(np.float16)


def longest_outing(hist: NDArray[np.float16]) -> float | None:
    """Upper edge (seconds) of the longest outing bin seen recently, or None."""
    seen = np.flatnonzero(hist.astype(np.float32) > 0.05)
    return None if seen.shape[0] == 0 else float(EDGES[int(seen[-1]) + 1])


def thresholds(hist: NDArray[np.float32], s: DetectorSettings) -> NDArray[np.float32]:
    """(m, 3) seconds: caution at 1.5 x the 95th percentile, alarm above the longest outing
    seen (upper edge of its bin), danger at twice the alarm; each with a floor."""
    h = hist.astype(np.float64)
    total = h.sum(axis=1)
    cum = np.cumsum(h, axis=1)
    k95 = np.argmax(cum >= 0.95 * total[:, None], axis=1)
    q95 = EDGES[k95 + 1]
    seen = h > 0.05
    top = np.where(seen.any(axis=1), BINS - 1 - np.argmax(seen[:, ::-1], axis=1), 0)
    alarm = np.maximum(EDGES[top + 1], s.away_min_hours[1] * 3600.0)
    caution = np.minimum(np.maximum(1.5 * q95, s.away_min_hours[0] * 3600.0), 0.8 * alarm)
    out = np.stack([caution, alarm, 2.0 * alarm], axis=1)
    return out.astype(np.float32)

"""Home or away: leaving through the exterior door turns silence into an expected return.

After an exterior door event the person is *pending*: home evidence (a reliable sign counts
1.5, a motion trigger 0.5) reaching `home_units` means they stayed; none within
`away_confirm_s` means they left at the door time. While away, silence raises no inactivity
alarm; instead `overdue_return` (`overdue_thresholds`) compares the outing with the person's
own outings of the same class (the block of the day it began in, weekday or weekend) in two
ways, and the earlier of the two holds:

* its *length* against decayed moments of their lengths (`pr_out`; learned levels only for
  departures 08-16, the broad levels otherwise);
* for departures 00-08 and 08-16, once it has lasted RET_LONG_H, the *time of day*
  against the usual return time of the outings of that class that lasted as long
  (`pr_back`: a decayed mean and variance of the local return time), so that "back by
  17:30 every weekday" makes a working day overdue at about 19:00-19:30, not 16 h after
  leaving.

Why the earlier and not the later: each rule alone is already set for few false alarms (a
wide quantile, a spread shrunk towards a prior, floors), and each fails where the other
holds. A working day ends at about the same hour (the length rule, in ln hours with its
floors, puts a 10 h day's alarm at 14-16 h); errands end at any hour of the block, but are
short. The later of the two would keep the slower one everywhere (the working day would
stay at 16 h); the earlier lets each rule speak where it is sharp, and the return rule is
made safe where it is not: it learns only from outings of at least RET_LONG_H (an errand
says nothing about when a day out is late), it needs two of them (RET_MIN_N), its spread is
widened while they are few, its alarm is never before the length rule's floors (a day out
that began hours later than usual is given at least 6 h), and evening and night departures
have no return rule at all (a night out until the small hours, or the next noon, has no
usual end). On the training homes, no outing that ended normally reached the combined alarm
(the closest ended 0.76 h before it).

A return is a door event, a reliable sign, or four motion triggers within 20 minutes
(spurious triggers from pets or sunlight are not a return; the hours with nobody home teach
the home's noise rate). An exit during the
person's usual rest hours, at an hour they never go out at, that is not followed by a return
is `wandering`; no exit at all for many days is `isolation` (a case-management signal,
caution).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors import rhythm
from detectors.settings import DetectorSettings
from detectors.state import REL_BASE, Field, Table, rel, unrel

NAN = math.nan
#: outings are classed by the 8-hour block of the local day in which they began (00-08,
#: 08-16, 16-24: an early start to work, a morning errand and an evening out are different
#: outings) and by weekday or weekend (a working week is not a Sunday)
OUT_BLOCKS = 3
OUT_BLOCK_S = 86400.0 / OUT_BLOCKS
OUT_CLASSES = 2 * OUT_BLOCKS
#: per class, the overdue-return levels are lognormal quantiles of the person's own outing
#: lengths: caution and alarm at these standard scores (one outing a day: an alarm passed by
#: 1 outing in ~700 if outings were lognormal; they are more heavy-tailed, hence the floors)
OUT_Z = (1.65, 3.0)
#: ... with the spread never below OUT_SD_FLOOR_H hours (as a spread of ln hours: divided by
#: the usual length; a day at work varies by about as many minutes as an errand does), nor
#: below OUT_SD_FLOOR of ln hours
OUT_SD_FLOOR_H, OUT_SD_FLOOR = 0.5, 0.1
#: ... shrunk towards the home's outings of all classes with the weight of this many outings
OUT_SHRINK = 3.0
#: ... and with floors (hours): caution, alarm (on the training homes errands of 1-2 h often
#: had a 4-5 h one a month: a 4 h alarm floor raised 0.25 false alarms per household-month,
#: and a 3 h caution floor 5 more soft checks per household-month)
OUT_MIN_H = (4.0, 6.0)
#: the alarm is never below OUT_TOP x the longest recent outing of its class, and the
#: lognormal quantile is taken as at most OUT_CAP x it
OUT_TOP, OUT_CAP = 1.25, 2.5
#: a class with fewer (decayed) outings of its own than this is judged by the broad levels
#: (`away_min_hours`): on the training homes, most false overdue alarms were outings at an
#: hour or on a day the person rarely goes out at (an evening out, a Saturday trip)
OUT_MIN_N = 4.0
#: only outings that begin in these blocks (08-16) are judged by the person's own lengths;
#: evening and night outings keep the broad levels: on the training homes, evenings out had
#: a heavy tail (a night out until the small hours) that weeks of history did not show, and
#: learned levels there raised 0.14 false alarms per household-month
OUT_LEARNED_BLOCKS = (1,)
#: the return-time rule (`return_thresholds`) holds for outings that begin in these blocks
#: (00-08: a working day; 08-16) and have lasted at least RET_LONG_H: it is learned from the
#: outings of that class that lasted that long (the local time of day they ended), so an
#: errand that was over in an hour says nothing about when a day out is late. Evening and
#: night outings keep the length rule: a night out has no usual time to end
RET_BLOCKS = (0, 1)
RET_CLASSES = 2 * len(RET_BLOCKS)
RET_LONG_H = 4.0
#: caution and alarm at the usual return time + these standard scores ...
RET_Z = (1.65, 3.0)
#: ... of the return time's spread (hours), shrunk towards RET_SD_PRIOR_H with the weight of
#: RET_SHRINK outings (three working days back by 17:00 sharp are not yet a rule), widened
#: by (1 + 1/n) in variance for a mean learned from n outings (two days back at 17:00: an
#: alarm at ~19:50; eight days with a spread of 0.3 h: at the mean + 1.85 h), never below
#: RET_SD_FLOOR_H
RET_SD_PRIOR_H, RET_SHRINK, RET_SD_FLOOR_H = 1.0, 3.0, 0.5
#: ... once the class has this many (decayed) long outings on record: two within about six
#: weeks, never a single one. Needing three (2.0), three of the nine incidents on a working
#: day on the training homes were still judged by the length (while-out median 13.0 h)
RET_MIN_N = 1.2
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
    #: the last exterior door event; while away, also when the outing began (every door
    #: event while away ends the outing first, so the two never differ: see `away_since`)
    Field("pr_door", "float64", fill=NAN),
    Field("pr_pending", "bool"),
    Field("pr_units", "float16"),
    #: away (the outing began at `pr_door`); until 73793dd a float64 `pr_away` (NaN: home)
    Field("pr_is_away", "bool"),
    Field("pr_ret_units", "float16"),
    #: first sign of the return being counted (relative seconds, see state.rel)
    Field("pr_ret_at", "float32", fill=NAN),
    #: per departure block: decayed moments of ln(outing hours): count, sum, sum of squares,
    #: and the largest (decayed towards the mean, so one long day out fades)
    Field("pr_out", "float16", (OUT_CLASSES, 4)),
    #: per class of `RET_BLOCKS` x weekday/weekend: the local time of return (hours after
    #: the departure day's midnight) of the outings that lasted at least RET_LONG_H, as a
    #: decayed count, mean and variance (`learn_outing`, `return_thresholds`)
    Field("pr_back", "float16", (RET_CLASSES, 3)),
    #: last confirmed exit (relative seconds, see state.rel)
    Field("pr_last_exit", "float32", fill=NAN),
    #: decayed count of exits and returns through the door per local hour (is this an hour
    #: the person is out at?), in sixteenths (`exits`; at most ~16 an hour)
    Field("pr_exits16", "uint8", (24,)),
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
    out = np.zeros(idx.shape[0], dtype=np.int8)
    quiet = np.nan_to_num(silence, nan=0.0) >= REST_QUIET_H * 3600.0
    k = np.flatnonzero(warm & quiet & (a["pr_posture"][idx] != 0))  # resting, quiet: few
    if k.shape[0] == 0:
        return out
    rows, now = idx[k], now[k]
    post = a["pr_posture"][rows].astype(np.int64)
    rmax = a["pr_rmax"][rows].astype(np.float64)
    since = a["pr_psince"][rows].astype(np.float64) + REL_BASE
    bed = (post & IN_BED) != 0
    off_bed = np.flatnonzero(~bed)  # most resting homes are in bed: only the others need this
    if off_bed.shape[0]:
        bed[off_bed] = rhythm.overlaps_rest(
            a["rh_rest"][rows[off_bed]], np.nan_to_num(since[off_bed], nan=0.0),
            now[off_bed], offset[k][off_bed])
    seat = (post & ON_SEAT) != 0
    limit = np.maximum(np.where(bed, rmax[:, 0], 0.0), np.where(seat, rmax[:, 1], 0.0))
    pad = np.where(bed, REST_PAD_H[0], REST_PAD_H[1])
    hours = (now - since) / 3600.0
    known = (limit >= REST_MIN_H) & ~np.isnan(hours)
    hours = np.nan_to_num(hours, nan=0.0)
    lvl = ((hours >= REST_CAUTION * limit + pad).astype(np.int8)
           + (hours >= REST_ALARM * limit + pad))
    out[k] = np.where(known, lvl, 0)
    return out


def resting(hh: Table, i: int) -> bool:
    return bool(hh.a["pr_posture"][i])


def is_away(hh: Table, i: int) -> bool:
    return bool(hh.a["pr_is_away"][i])


def away_since(hh: Table, idx: NDArray[np.int64]) -> NDArray[np.float64]:
    """When the current outing of each household began (NaN: at home)."""
    out: NDArray[np.float64] = np.where(hh.a["pr_is_away"][idx], hh.a["pr_door"][idx], NAN)
    return out


def _come_back(hh: Table, i: int, t: float, offset: float) -> None:
    a = hh.a
    since = float(a["pr_door"][i])
    if t > since:  # hours with nobody home: what motion came meanwhile was noise
        a["rh_ze"][i] += (t - since) / 3600.0
    if not a["pr_alerted"][i] and t > since:
        learn_outing(hh, i, since, t - since, offset)
    a["pr_is_away"][i] = False
    a["pr_alerted"][i] = False
    a["pr_level"][i] = 0
    a["pr_wlevel"][i] = 0
    a["pr_ret_units"][i] = 0.0


def out_class(start: NDArray[np.float64], offset: NDArray[np.float64]) -> NDArray[np.int64]:
    """The class of outings that began at `start`: weekend x 3 + the 8-hour block."""
    local = start + offset
    day = np.floor(local / 86400.0)
    weekend = ((day + 3) % 7 >= 5).astype(np.int64)  # day 0 (1970-01-01) was a Thursday
    block = ((local - day * 86400.0) // OUT_BLOCK_S).astype(np.int64) % OUT_BLOCKS
    out: NDArray[np.int64] = weekend * OUT_BLOCKS + block
    return out


def learn_outing(hh: Table, i: int, start: float, dur: float, offset: float) -> None:
    """An outing of `dur` seconds that began at `start` joins its class's moments of
    ln(length) and, if it lasted at least RET_LONG_H in a class of `RET_BLOCKS`, the
    moments of its local return time (a decayed weighted mean and variance, so that
    float16 holds them: raw sums of squares of ~17 h would cancel)."""
    x = math.log(max(dur, 60.0) / 3600.0)
    b = int(out_class(np.array([start]), np.array([offset]))[0])
    m = hh.a["pr_out"][i, b].astype(np.float64)
    hh.a["pr_out"][i, b] = (m[0] + 1.0, m[1] + x, m[2] + x * x,
                            x if m[0] < 0.05 else max(m[3], x))
    c, clock = _ret_class(np.array([start]), np.array([offset]))
    if dur < RET_LONG_H * 3600.0 or c[0] < 0:
        return
    back = float(clock[0]) + dur / 3600.0
    n, mean, var = hh.a["pr_back"][i, c[0]].astype(np.float64)
    if n < 0.05:
        n, mean, var = 0.0, back, 0.0
    d = back - mean
    mean += d / (n + 1.0)
    var = (n * var + d * (back - mean)) / (n + 1.0)
    hh.a["pr_back"][i, c[0]] = (n + 1.0, mean, var)


def _ret_class(start: NDArray[np.float64], offset: NDArray[np.float64]
               ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The return-time class of outings that began at `start` (-1: none, see RET_BLOCKS)
    and the local hour of the day they began."""
    cls = out_class(start, offset)
    local = start + offset
    clock = (local - np.floor(local / 86400.0) * 86400.0) / 3600.0
    block = cls % OUT_BLOCKS
    pos = np.full(cls.shape, -1, dtype=np.int64)
    for k, blk in enumerate(RET_BLOCKS):
        pos[block == blk] = k
    out = np.where(pos >= 0, (cls // OUT_BLOCKS) * len(RET_BLOCKS) + pos, -1)
    return out.astype(np.int64), clock


def return_thresholds(back: NDArray[Any], since: NDArray[np.float64],
                      offset: NDArray[np.float64]) -> NDArray[np.float64]:
    """(m, 2) seconds away before caution and alarm by the usual *time of day* of return
    (inf where the rule does not hold): the class's (`RET_BLOCKS` x weekday/weekend) mean
    return time + `RET_Z` x its spread (shrunk towards RET_SD_PRIOR_H, floored at
    RET_SD_FLOOR_H), measured from the departure, never before the length rule's floors
    (`OUT_MIN_H`: an outing that began much later than usual in its class is given at least
    as long as an errand). It holds for outings that have lasted RET_LONG_H (the outings it
    is learned from), which is before the floors."""
    m = back.astype(np.float64)
    c, clock = _ret_class(since, offset)
    own = m[np.arange(m.shape[0]), np.maximum(c, 0)]
    n = own[:, 0]
    var = (n * np.maximum(own[:, 2], 0.0) + RET_SHRINK * RET_SD_PRIOR_H**2) / (n + RET_SHRINK)
    var = var * (1.0 + 1.0 / np.maximum(n, 1e-3))  # a new return, around a mean of n
    sd = np.maximum(np.sqrt(var), RET_SD_FLOOR_H)
    due = own[:, 1, None] + np.asarray(RET_Z)[None, :] * sd[:, None] - clock[:, None]
    h = np.maximum(due, np.asarray(OUT_MIN_H)[None, :]) * 3600.0
    ok = (c >= 0) & (n >= RET_MIN_N)
    out: NDArray[np.float64] = np.where(ok[:, None], h, np.inf)
    return out


def on_door(hh: Table, i: int, t: float, offset: float = 0.0) -> bool:
    """An exterior door event. Returns True when it ends an outing (the person is back).

    Every door event may be a departure (*pending*), the door of a return too: someone back
    at 02:08 who goes straight to bed, in a home with few sensors, is then taken as gone out
    again. That exit is not `wandering`, as the return counts its hour as one the person is
    out at (on the training homes, two of three `wandering` false alarms were such returns).
    Not starting a departure at a return's door removed those and two inactivity false
    alarms as well, but a person who collapsed a minute after coming in to a sparse real
    home (Ordonez A, with faults) was then scored at home, where the score is slow, and
    missed within 24 h; taken as gone out again, the overdue rule found them at 16 h."""
    a = hh.a
    back = False
    if is_away(hh, i) and t >= a["pr_door"][i]:
        _come_back(hh, i, t, offset)
        back = True
        # the person is out at this hour: a later exit at it is no wandering (on the training
        # homes a man back at 02:08 one night went out at 03:01 the next)
        _count_hour(hh, i, int(((t + offset) % 86400.0) // 3600.0))
    d = float(a["pr_door"][i])
    if math.isnan(d) or t >= d:
        a["pr_door"][i] = t
        a["pr_pending"][i] = True
        a["pr_units"][i] = 0.0
    return back


def on_sign(hh: Table, i: int, t: float, reliable: bool, corroborated: bool,
            s: DetectorSettings, offset: float = 0.0) -> bool:
    """A counted sign that is not the exterior door. Returns True when it ends an outing."""
    a = hh.a
    away = is_away(hh, i)
    units = 1.5 if reliable else NOISY_UNITS[1 if away else 0]
    if away:
        if t < a["pr_door"][i]:
            return False
        rt = unrel(a["pr_ret_at"][i])
        if math.isnan(rt) or t - rt > RETURN_WINDOW_S:
            a["pr_ret_at"][i] = rel(t)
            a["pr_ret_units"][i] = 0.0
        a["pr_ret_units"][i] += units
        if a["pr_ret_units"][i] >= s.home_units:
            _come_back(hh, i, t, offset)
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
    a["pr_is_away"][left] = True
    a["pr_last_exit"][left] = a["pr_door"][left] - REL_BASE
    a["pr_ret_units"][left] = 0.0
    a["pr_ret_at"][left] = NAN
    a["pr_alerted"][left] = False
    a["pr_level"][left] = 0
    a["pr_wlevel"][left] = 0
    a["pr_ilevel"][left] = 0
    return left


def note_exit(hh: Table, i: int, hour: int, rest: bool, warm: bool) -> None:
    """A confirmed exit at local `hour`: a wandering candidate when it falls in the person's
    main rest window at an hour they (almost) never go out at; then count it."""
    ex = exits(hh.a["pr_exits16"][i])
    usual = float(ex[(hour - 1) % 24] + ex[hour] + ex[(hour + 1) % 24])
    hh.a["pr_night"][i] = warm and rest and usual < 0.5
    _count_hour(hh, i, hour)


def _count_hour(hh: Table, i: int, hour: int) -> None:
    """One more exit or return through the door at local `hour` (`pr_exits16`)."""
    hh.a["pr_exits16"][i, hour] = _exits16(exits(hh.a["pr_exits16"][i])[hour] + 1.0)


def overdue_levels(hh: Table, idx: NDArray[np.int64], now: NDArray[np.float64],
                   warm: NDArray[np.bool_], offset: NDArray[np.float64],
                   s: DetectorSettings) -> NDArray[np.int8]:
    """Severity (0-3) of each outing against the person's own outings (`overdue_thresholds`),
    at any hour. (Until round 3 an alarm that fell in the person's usual night waited for
    its end, against returns that went unseen; on the training homes that hold changed no
    false alarm once the return-time rule was in, and it kept someone who never came back
    from a day out waiting for dawn, so it is gone.)"""
    a = hh.a
    since = away_since(hh, idx)
    dur = now - since
    h = overdue_thresholds(a["pr_out"][idx], a["pr_back"][idx], np.nan_to_num(since, nan=0.0),
                           offset, warm, s)
    late = dur >= h[:, 1]
    out: NDArray[np.int8] = ((dur >= h[:, 0]).astype(np.int8) + late
                             + (late & (dur >= h[:, 2]))).astype(np.int8)
    return out


def overdue_thresholds(out: NDArray[Any], back: NDArray[Any], since: NDArray[np.float64],
                       offset: NDArray[np.float64], warm: NDArray[np.bool_],
                       s: DetectorSettings) -> NDArray[np.float64]:
    """(m, 3) seconds away before caution, alarm, danger, for outings that began at `since`:
    the earlier of the length rule (below) and the return-time rule (`return_thresholds`,
    `pr_back`), danger at most twice the alarm.

    From the person's own outings of the same class (`out_class`: 8-hour block of the day,
    weekday or weekend), shrunk towards their outings of all classes (`OUT_SHRINK`):
    lognormal quantiles (`OUT_Z`) of the outing length, the spread never below
    `OUT_SD_FLOOR_H` hours; the quantile taken as at most `OUT_CAP` x the longest recent
    outing of the class (a class that mixes errands with days at work is not lognormal: its
    moments overstate the spread) and at most `away_min_hours`, so never later than the
    broad levels; the alarm never below `OUT_TOP` x that outing; each with
    a floor (`OUT_MIN_H`); danger at twice the alarm. While warming up, the fixed
    `away_fixed_hours`; with fewer than `OUT_MIN_N` outings of the class on record, or for
    an outing that begins outside `OUT_LEARNED_BLOCKS`, `away_min_hours` (the caution never
    before the longest outing seen, the alarm never before `OUT_TOP` x it)."""
    m = out.astype(np.float64)
    k = np.arange(m.shape[0])
    own = m[k, out_class(since, offset)]
    n_all = m[:, :, 0].sum(axis=1)
    mu_all = m[:, :, 1].sum(axis=1) / np.maximum(n_all, 1e-9)
    # the spread *within* classes (a morning errand and an evening out differ by design)
    within = m[:, :, 2] - m[:, :, 1] ** 2 / np.maximum(m[:, :, 0], 1e-9)
    var_all = np.maximum(within.sum(axis=1) / np.maximum(n_all, 1e-9), 0.0)
    n = own[:, 0] + OUT_SHRINK
    mu = (own[:, 1] + OUT_SHRINK * mu_all) / n
    ex2 = (own[:, 2] + OUT_SHRINK * (var_all + mu_all**2)) / n
    floor = np.maximum(OUT_SD_FLOOR_H / np.exp(mu), OUT_SD_FLOOR)
    sd = np.maximum(np.sqrt(np.maximum(ex2 - mu**2, 0.0)), floor)
    seen = m[:, :, 0] > 0.05
    top_all = np.exp(np.where(seen, m[:, :, 3], -10.0).max(axis=1)) * 3600.0
    top_all = np.where(seen.any(axis=1), top_all, 0.0)
    top = np.where(own[:, 0] > 0.05, np.exp(own[:, 3]) * 3600.0, top_all)
    quant = np.exp(mu + OUT_Z[1] * sd) * 3600.0
    # never later than the broad levels would be (max(16 h, 1.25 x the longest))
    quant = np.minimum.reduce([quant, OUT_CAP * top, np.full_like(mu, s.away_min_hours[1]
                                                                  * 3600.0)])
    alarm = np.maximum.reduce([quant, OUT_TOP * top, np.full_like(mu, OUT_MIN_H[1] * 3600.0)])
    caution = np.minimum(np.maximum(np.exp(mu + OUT_Z[0] * sd) * 3600.0,
                                    OUT_MIN_H[0] * 3600.0), 0.8 * alarm)
    learned = np.stack([caution, alarm, 2.0 * alarm], axis=1)
    lo = np.asarray(s.away_min_hours, dtype=np.float64) * 3600.0
    few_alarm = np.maximum(lo[1], OUT_TOP * top_all)
    few = np.stack([np.minimum(np.maximum(lo[0], top_all), 0.8 * few_alarm), few_alarm,
                    2.0 * few_alarm], axis=1)
    fixed = np.asarray(s.away_fixed_hours, dtype=np.float64)[None, :] * 3600.0
    day = np.isin(out_class(since, offset) % OUT_BLOCKS, OUT_LEARNED_BLOCKS)
    h = np.where(((own[:, 0] >= OUT_MIN_N) & day)[:, None], learned, few)
    ret = return_thresholds(back, since, offset)
    alarm = np.minimum(h[:, 1], ret[:, 1])
    h = np.stack([np.minimum(h[:, 0], ret[:, 0]), alarm, np.minimum(h[:, 2], 2.0 * alarm)],
                 axis=1)
    result: NDArray[np.float64] = np.where(warm[:, None], h, fixed)
    return result


def wandering_levels(hh: Table, idx: NDArray[np.int64], now: NDArray[np.float64],
                     warm: NDArray[np.bool_], s: DetectorSettings) -> NDArray[np.int8]:
    a = hh.a
    dur = now - away_since(hh, idx)
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
    m = a["pr_out"][idx].astype(np.float32)
    g = gamma[:, None].astype(np.float32)
    m[..., :3] *= g[..., None]
    mean = m[..., 1] / np.maximum(m[..., 0], 1e-9)
    m[..., 3] = np.where(m[..., 0] > 0.05, mean + (m[..., 3] - mean) * g, 0.0)
    a["pr_out"][idx] = m.astype(np.float16)
    a["pr_back"][idx, :, 0] = (a["pr_back"][idx, :, 0].astype(np.float32)
                               * g).astype(np.float16)
    a["pr_exits16"][idx] = _exits16(exits(a["pr_exits16"][idx]) * gamma[:, None])
    a["pr_rmax"][idx] = (a["pr_rmax"][idx].astype(np.float32)
                         * (REST_FADE ** (-np.log(gamma) * s.memory_days))[:, None]
                         ).astype(np.float16)


def usual_return(back: NDArray[Any], since: float, offset: float) -> float | None:
    """When (epoch seconds) the person is usually back from an outing like the one that
    began at `since`, if the return-time rule holds for it, else None."""
    c, clock = _ret_class(np.array([since]), np.array([offset]))
    if c[0] < 0:
        return None
    n, mean, _var = back[c[0]].astype(np.float64)
    if n < RET_MIN_N:
        return None
    return since + (float(mean) - float(clock[0])) * 3600.0


def longest_outing(out: NDArray[Any], since: float, offset: float) -> float | None:
    """The longest recent outing (seconds) that began in the same block as one that began
    at `since` (of any block if none did), or None."""
    m = out.astype(np.float64)
    b = int(out_class(np.array([since]), np.array([offset]))[0])
    if m[b, 0] > 0.05:
        return float(math.exp(m[b, 3]) * 3600.0)
    seen = m[:, 0] > 0.05
    return float(math.exp(m[seen, 3].max()) * 3600.0) if seen.any() else None


def exits(x16: NDArray[Any]) -> NDArray[np.float32]:
    """Decayed exits per local hour from their stored sixteenths."""
    out: NDArray[np.float32] = x16.astype(np.float32) / 16.0
    return out


def _exits16(x: Any) -> Any:
    return np.clip(np.rint(np.asarray(x, dtype=np.float32) * 16.0), 0, 255).astype(np.uint8)


def upgrade(hh: Table, i: int, old: NDArray[Any], missing: list[str]) -> None:
    """Fields that a state saved with an older layout (`old`, one record) lacked, derived from
    what it had (see `layouts`). Layouts up to 73793dd kept the start of the current
    outing as a float64 (`pr_away`, NaN at home; now the door time and a flag) and the
    return's first sign as an absolute float64 (`pr_ret_t`; now relative float32); the
    return times (`pr_back`) cannot be derived and are learned afresh. Layouts up to
    c645da8 kept the outing lengths in a decayed histogram (`pr_hist`, bin k from 10 min x
    2^(k/2)), not by time of day: its outings are spread over the blocks in proportion to
    the person's exits at those hours."""
    names = old.dtype.names or ()
    if "pr_is_away" in missing and "pr_away" in names:  # float64 NaN-or-time until 73793dd
        away = float(old["pr_away"])
        hh.a["pr_is_away"][i] = not math.isnan(away)
        if not math.isnan(away):  # pr_door equalled it while away; make sure
            hh.a["pr_door"][i] = away
    if "pr_ret_at" in missing and "pr_ret_t" in names:  # absolute float64 until 73793dd
        hh.a["pr_ret_at"][i] = rel(float(old["pr_ret_t"]))
    if "pr_exits16" in missing and "pr_exits" in names:  # float16 counts until c645da8
        hh.a["pr_exits16"][i] = _exits16(old["pr_exits"])
    if "pr_out" in missing and "pr_hist" in names:
        hist = old["pr_hist"].astype(np.float64)
        if hist.sum() <= 0.05:
            return
        edges = 600.0 * 2.0 ** (np.arange(hist.shape[0]) / 2.0)
        mid = np.log(edges * 2.0 ** 0.25 / 3600.0)  # ln hours at the bins' middles
        per_hour = (old["pr_exits"].astype(np.float64) if "pr_exits" in names
                    else np.ones(24))
        share = np.tile(per_hour.reshape(OUT_BLOCKS, -1).sum(axis=1), 2)
        share = (share / share.sum() if share.sum() > 0
                 else np.full(OUT_CLASSES, 1.0 / OUT_CLASSES))
        top = float(mid[np.flatnonzero(hist > 0.05)].max()) if (hist > 0.05).any() else 0.0
        mom = np.array([hist.sum(), (hist * mid).sum(), (hist * mid**2).sum()])
        out = np.zeros((OUT_CLASSES, 4))
        out[:, :3] = share[:, None] * mom[None, :]
        out[:, 3] = np.where(share > 0, top, 0.0)
        hh.a["pr_out"][i] = out.astype(np.float16)

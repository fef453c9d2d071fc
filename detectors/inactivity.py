"""Inactivity: expected signs of life that did not happen, against a per-household threshold.

*Scoring.* S is a CUSUM of evidence that the person has stopped: during a silence it grows by
the signs the rhythm expected beyond the home's noise, Λ = ∫(λ(t) − ρ)dt (`rhythm`); a
reliable sign resets it to 0; a noisy sign (a lone motion trigger) takes off only
log(1 + λ_noisy/ρ), its log-likelihood ratio under "alive" (rate λ + ρ) against "not alive"
(rate ρ: pets and sunlight, learned from the home's own empty hours). So a spurious
trigger an hour barely slows the score in a home that is normally busy, yet a person's steady
movements keep it at 0. S is kept lazily as (S, t_ref) and integrated up to `now` at each tick,
for every household at once, so nothing depends on an in-memory timer: after a restart the
stored (S, t_ref) gives the same answer, and an alert that came due meanwhile fires at once.

*Deciding.* Each silence (an *excursion* of S above 0) reaches a peak before the person shows
life again. Silences are classed by the 3-hour block of the local day in which they began and
by posture (up and about, or resting: the bed or a seat occupied, from pressure sensors), so
that a night owl's bedtime is judged against their own bedtimes and a doze in the armchair
against their dozes. The day's largest peak of each class is kept as decayed moments (~4
weeks); a Gumbel fit of those daily maxima sets the thresholds for the caution and alarm
budgets (e.g. 0.5 escalated false alarms per household-month, split over the blocks), never
below the largest normal peak seen (+25 % up, +30 % resting). Danger is a multiple of alarm.
While resting, S grows with the person's own rate of signs *while resting* at that hour (in
effect, how soon they usually get up), so a silence in bed waits for their usual waking time
plus the margin their own nights need. Spans that raised an escalated alert are learned from
neither for the rhythm nor for the thresholds. The budget is also enforced on the home's own
record: an alert that ends with the person's own activity was false, and raises its class's
threshold (x1.25 for an alarm, x1.05 for a caution; the raise fades over the memory). Until
`warmup_days` of history exist the fixed
tiers apply to the time since the last confirmed sign (8 h caution, 12 h alarm, 24 h danger);
the 24 h tier stays as a safety net afterwards.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors import rhythm
from detectors.settings import DetectorSettings
from detectors.state import Field, Table

NAN = math.nan
W_MAX = 6.0
#: how much one false caution / one false alarm raises its class's threshold, and the cap
BUMP = (1.05, 1.4)
MULT_MAX = 4.0
#: silences are classed by the 3-hour block of the local day in which they began
BLOCKS = 8
BLOCK_S = 86400.0 / BLOCKS
#: ... and by posture: 0 up and about, 1 resting (in bed or on a seat, by pressure sensors)
POSES = 2
#: `in_exc_pose` also takes ASSUMED: no pressure sensor says resting, but the silence began at
#: an hour when this person is often in bed (so the "into bed" message may have been lost:
#: on the training homes with 10 % of messages dropped, the commonest cause of false alarms).
#: It is scored as resting (the rate while resting, the resting thresholds) and learned as up
#: and about. A collapse at such an hour is then found by the person's usual waking time.
ASSUMED = 2
#: ... when at least this share of the time at home at that hour is spent resting (0.5 left
#: more of those false alarms. In round 2 0.15 removed no more than 0.25; in round 4, with
#: the resting floor REST_MIN_ALARM, it removed two more of them (0.607 -> 0.536 per
#: household-month on the training homes, nothing slower by day; 0.10: 0.50, but the daytime
#: median 2.21 -> 2.27 h): evenings when a night owl went to bed early)
ASSUME_REST_SHARE = 0.15
#: ... and the home has this many (decayed) hours of resting on record (it has a bed sensor)
ASSUME_REST_MIN_H = 24.0
#: a noisy sign that another device corroborates counts as if the noise rate were this many
#: times lower. (Pairs of spurious triggers are common at one an hour in a three-PIR home, so
#: this overstates their weight; but 2 instead of 4 raised the false alarms on the training
#: homes, 1.04 -> 1.11 per household-month, and changed nothing on Ordonez A once the
#: rest-too-long rule was in: 1 of 60 missed either way.)
CORROBORATION = 4.0
#: silences smaller than this are not worth keeping (expected signs)
E0 = 0.5
EULER = 0.5772156649
#: the Gumbel spread is taken as at least this share of the mean daily maximum, per posture:
#: quiet spells when up and about are heavy-tailed (a long read, a doze in the armchair),
#: nights in bed far less so
SD_FLOOR = np.array([0.5, 0.25])
#: ... and, while a class has few days of maxima, at least this share (up to SHORT_DAYS days,
#: falling linearly to SD_FLOOR): with a week or two of history the tail is unknown, and the
#: population's quiet spells are heavy-tailed (on the training homes, most false alarms came
#: in the first week after the warm-up, at thresholds fitted on 3-8 maxima)
SD_FLOOR_SHORT = 0.75
SHORT_DAYS = 14.0
#: the alarm is never below this multiple of the largest daily maximum seen, per posture
TOP_MARGIN = np.array([1.25, 1.3])
#: the lowest alarm threshold while resting (expected signs; `min_alarm` when up and about).
#: A rest's silences are split by every movement in bed, so a class's daily maxima are often
#: small and its alarm sat at the common floor: on the training homes with faults, a 3-hour
#: nap, lie-ins to 13:22 and a late morning after two toilet visits were 5 of 18 false
#: inactivity alarms. With round 4's other changes, 9.5 instead of 8 took the false alarms
#: from 0.75 to 0.607 per household-month (11: 0.536), at a cost at night: after the usual
#: waking time 2.48 -> 2.81 h (11: 3.11 h); a night in bed is the waking-time rule's to judge
#: (`routine`)
REST_MIN_ALARM = 9.5

FIELDS = (
    Field("in_S", "float64"),
    Field("in_tref", "float64", fill=NAN),
    Field("in_peak", "float32"),
    Field("in_exc_start", "float64", fill=NAN),
    #: posture when the current silence began (1 resting)
    Field("in_exc_pose", "int8"),
    #: the current silence raised an escalated alert: do not learn from it
    Field("in_alerted", "bool"),
    #: severity already reported for the current silence (0 none, 1 caution, 2 alarm, 3 danger)
    Field("in_level", "int8"),
    Field("in_day", "int32", fill=-1),
    #: today's largest silence peak per start block and posture
    Field("in_bmax", "float16", (BLOCKS, POSES)),
    #: decayed moments of those daily maxima per class: days, sum, sum of squares, and the
    #: largest (decayed towards the mean, so one odd day does not set the bar for ever)
    Field("in_m", "float32", (BLOCKS, POSES, 4)),
    #: thresholds per start block, posture and tier (caution, alarm, danger)
    Field("in_h", "float16", (BLOCKS, POSES, 3), fill=60000.0),
    #: days of history with signs (warm-up)
    Field("in_days", "int16"),
    #: per class, factors on the caution and on the alarm/danger thresholds: raised each time
    #: an alert of that tier ends with the person's own activity (it was false), fading back
    #: towards 1 over the memory: the false-alarm budget, enforced on the home's own record
    Field("in_mult", "float16", (BLOCKS, POSES, 2), fill=1.0),

)


def block_of(t: float, offset: float) -> int:
    return int(((t + offset) % 86400.0) // BLOCK_S)


def start(hh: Table, i: int, t: float) -> None:
    """A household seen for the first time at `t`."""
    hh.a["in_tref"][i] = t
    hh.a["in_exc_start"][i] = t
    cum = rhythm.initial_cum()
    hh.a["rh_cum"][i] = cum
    hh.a["rh_rcum"][i] = cum[:1]
    hh.a["rh_rest"][i] = rhythm.rest_window(cum[None])[0]


def _tables(hh: Table, i: int) -> tuple[NDArray[Any], tuple[NDArray[Any], ...],
                                        tuple[NDArray[Any], ...]]:
    """(cumulative rate for the current silence, count rows, exposure rows to learn into).

    The general rate learns from all time at home, whatever the posture, and scores silences
    while up and about: a lost "into bed" message then leaves a night scored by the usual
    rate at that hour, not by the (much higher) rate of someone who is up at 3 am. The rate
    while resting learns only from time in bed or on a seat, and scores silences there."""
    a = hh.a
    pose = int(a["in_exc_pose"][i])
    if pose == 1:
        return (a["rh_rcum"][i], (a["rh_n"][i], a["rh_rn"][i]), (a["rh_e"][i], a["rh_re"][i]))
    cum = a["rh_rcum"][i] if pose == ASSUMED else a["rh_cum"][i]
    return cum, (a["rh_n"][i],), (a["rh_e"][i],)


def noise_one(hh: Table, i: int, s: DetectorSettings) -> float:
    """Household i's learned rate of motion triggers nobody caused (per hour)."""
    return float(rhythm.noise_rate(hh.a["rh_zn"][i], hh.a["rh_ze"][i], s.noise_per_h))


def rests_on_record(hh: Table, i: int) -> bool:
    """Has this home's bed or seat sensor shown resting (ASSUME_REST_MIN_H decayed hours)?"""
    return float(hh.a["rh_re"][i].sum()) >= ASSUME_REST_MIN_H


def usually_resting(hh: Table, i: int, t: float, offset: float) -> bool:
    """Is this person often resting (bed or seat) at this hour of the day, in a home whose
    pressure sensors have shown resting before?"""
    a = hh.a
    rest = a["rh_re"][i]
    if not rests_on_record(hh, i):
        return False
    hour = int(((t + offset) % 86400.0) // 3600.0)
    e = a["rh_e"][i]
    home = float(e[hour]) + float(e[rhythm.SLOTS + hour])
    return home > 0.0 and float(rest[hour]) >= ASSUME_REST_SHARE * home


def _end_excursion(hh: Table, i: int, t: float, offset: float) -> None:
    """The silence is over: keep its peak as its class's daily maximum, unless it raised an
    escalated alert (a silence that ended in an alarm is not learned as normal). The next
    silence starts now, in the posture the person is in now."""
    a = hh.a
    peak = float(a["in_peak"][i])
    blk = block_of(float(a["in_exc_start"][i]), offset)
    pose = min(int(a["in_exc_pose"][i]), 1)
    if not a["in_alerted"][i] and peak >= E0 and peak > a["in_bmax"][i, blk, pose]:
        a["in_bmax"][i, blk, pose] = min(peak, 60000.0)
    raised = int(a["in_level"][i])
    if raised:  # the person shows life again: the alert was false
        k = 1 if raised >= 2 else 0
        a["in_mult"][i, blk, pose, k] = min(float(a["in_mult"][i, blk, pose, k]) * BUMP[k],
                                            MULT_MAX)
    a["in_peak"][i] = 0.0
    a["in_alerted"][i] = False
    a["in_level"][i] = 0
    a["in_exc_start"][i] = t
    a["in_exc_pose"][i] = (1 if a["pr_posture"][i]
                           else ASSUMED if usually_resting(hh, i, t, offset) else 0)


def on_sign(hh: Table, i: int, t: float, noisy: bool, corroborated: bool, offset: float,
            home: bool, s: DetectorSettings, counted: bool = True) -> None:
    """A sign of life at `t` (possibly late: before the last one). Only `counted` signs (not
    repeats of one device within its refractory time) teach the rhythm; a repeated reliable
    sign (the bed, 90 s after the toilet flush) still proves life."""
    a = hh.a
    S = float(a["in_S"][i])
    tref = float(a["in_tref"][i])
    cum, n_rows, e_rows = _tables(hh, i)
    learn = home and not a["in_alerted"][i]
    if t >= tref:
        gain = rhythm.integrate_one(cum, tref, t, offset) if home else 0.0
        if learn:
            for e_row in e_rows:
                rhythm.add_exposure(e_row, tref, t, offset)
        pre = S + gain
        if pre > a["in_peak"][i]:
            a["in_peak"][i] = pre
        a["in_tref"][i] = t
    else:  # late: the person was alive at t, so the silence since is at most Λ(t, t_ref)
        pre = min(S, rhythm.integrate_one(cum, t, tref, offset)) if home else S
    if noisy:
        # log-likelihood ratio of one noisy sign: rate (excess + noise) against noise alone
        frac = float(a["rh_noisy"][i]) / max(float(a["rh_units"][i]), 1e-6)
        frac = min(max(frac, 0.2), 1.0)
        rho = noise_one(hh, i, s)
        rho /= CORROBORATION if corroborated else 1.0
        w = min(W_MAX, math.log1p(frac * rhythm.rate_one(cum, t, offset) / rho))
        S = max(0.0, pre - w)
    else:
        S = 0.0
    a["in_S"][i] = S
    if learn and counted:
        for n_row in n_rows:
            rhythm.add_count(n_row, t, offset, 1.0)
        a["rh_units"][i] += 1.0
        if noisy:
            a["rh_noisy"][i] += 1.0
    if S <= 0.0:
        _end_excursion(hh, i, max(t, tref), offset)


def advance(hh: Table, i: int, t: float, offset: float, home: bool) -> None:
    """Bring S up to `t` without a sign (before a gap in the data or a change of state)."""
    a = hh.a
    tref = float(a["in_tref"][i])
    if t <= tref:
        return
    if home:
        cum, _, e_rows = _tables(hh, i)
        gain = rhythm.integrate_one(cum, tref, t, offset)
        if not a["in_alerted"][i]:
            for e_row in e_rows:
                rhythm.add_exposure(e_row, tref, t, offset)
        a["in_S"][i] += gain
        a["in_peak"][i] = max(float(a["in_peak"][i]), float(a["in_S"][i]))
    a["in_tref"][i] = t


def jump(hh: Table, i: int, t: float) -> None:
    """Skip unknown time (the gateway was offline): S is neither raised nor learned from."""
    if t > hh.a["in_tref"][i]:
        hh.a["in_tref"][i] = t


def reset(hh: Table, i: int, t: float, offset: float) -> None:
    """The person left home at `t`: the silence is explained."""
    hh.a["in_S"][i] = 0.0
    hh.a["in_tref"][i] = max(t, float(hh.a["in_tref"][i]))
    _end_excursion(hh, i, t, offset)


# -- one tick, every household -----------------------------------------------------------
def score(hh: Table, idx: NDArray[np.int64], horizon: NDArray[np.float64],
          offset: NDArray[np.float64]) -> NDArray[np.float64]:
    """S at `horizon` for the households `idx` (all at home and monitored), each with the
    rate of its current posture."""
    a = hh.a
    out = a["in_S"][idx].astype(np.float64)
    pose = a["in_exc_pose"][idx] != 0
    for sel, table in ((~pose, "rh_cum"), (pose, "rh_rcum")):
        rows = idx[sel]
        if rows.shape[0]:
            out[sel] += rhythm.integrate(a[table], a["in_tref"][rows], horizon[sel],
                                         offset[sel], rows)
    return out


def levels(hh: Table, idx: NDArray[np.int64], S: NDArray[np.float64],
           silence: NDArray[np.float64], offset: NDArray[np.float64], s: DetectorSettings
           ) -> NDArray[np.int8]:
    """Severity (0-3) per household: the thresholds of the block in which the silence began
    once warm, the fixed tiers on the time since the last confirmed sign before."""
    a = hh.a
    warm = a["in_days"][idx] >= s.warmup_days
    # only the homes whose score has reached the lowest threshold there can be need their
    # class's thresholds looked up (the factors are >= 1)
    learned = np.zeros(idx.shape[0], dtype=np.int8)
    k = np.flatnonzero(warm & (lowest_threshold(s) <= S))
    if k.shape[0]:
        rows = idx[k]
        blk = (((a["in_exc_start"][rows] + offset[k]) % 86400.0) // BLOCK_S).astype(np.int64)
        cls = blk * POSES + np.minimum(a["in_exc_pose"][rows], 1).astype(np.int64)
        # one flat `take` per table (a fancy index on three axes costs several times more)
        at = (rows * (BLOCKS * POSES) + cls)[:, None]
        h = np.take(a["in_h"].reshape(-1), at * 3 + np.arange(3)).astype(np.float64)
        mult = np.take(a["in_mult"].reshape(-1), at * 2 + np.array([0, 1, 1])).astype(np.float64)
        h = h * mult
        sk = S[k]
        learned[k] = (h[:, 0] <= sk).astype(np.int8) + (h[:, 1] <= sk) + (h[:, 2] <= sk)
    f = np.asarray(s.fixed_hours) * 3600.0
    sil = np.nan_to_num(silence, nan=0.0)
    fixed = ((sil >= f[0]).astype(np.int8) + (sil >= f[1]) + (sil >= f[2])).astype(np.int8)
    net = np.where(sil >= f[2], 3, 0).astype(np.int8)
    out: NDArray[np.int8] = np.where(warm, np.maximum(learned, net), fixed).astype(np.int8)
    return out


def new_day(hh: Table, idx: NDArray[np.int64], today: NDArray[np.int64],
            gamma: NDArray[np.float64], s: DetectorSettings) -> None:
    """Day rollover for households `idx`: decay (by `gamma`, one factor per household for
    the days elapsed), relearn the rhythm, refit the thresholds."""
    a = hh.a
    if idx.shape[0] == 0:
        return
    first = a["in_day"][idx] < 0
    # decay, then yesterday's largest silence per class joins the moments (not on the first,
    # partial day, nor on the first full one: it was judged with the generic rhythm)
    mom = a["in_m"][idx].astype(np.float64)
    mom[..., :3] *= gamma[:, None, None, None]
    mean = mom[..., 1] / np.maximum(mom[..., 0], 1e-9)
    mom[..., 3] = mean + (mom[..., 3] - mean) * gamma[:, None, None]
    bmax = a["in_bmax"][idx].astype(np.float64)
    keep = (~first & (a["in_days"][idx] >= 1))[:, None, None] & (bmax >= E0)
    x = np.where(keep, bmax, 0.0)
    mom[..., 0] += keep
    mom[..., 1] += x
    mom[..., 2] += x * x
    mom[..., 3] = np.maximum(mom[..., 3], x)
    a["in_m"][idx] = mom
    a["in_bmax"][idx] = 0.0
    a["in_days"][idx] = np.minimum(a["in_days"][idx] + ~first, 10000)
    a["in_day"][idx] = today
    g = gamma[:, None]
    for name in ("rh_n", "rh_e", "rh_rn", "rh_re"):
        a[name][idx] = a[name][idx] * g
    for name in ("rh_noisy", "rh_units", "rh_zn", "rh_ze"):
        a[name][idx] = a[name][idx] * gamma
    noise = rhythm.noise_rate(a["rh_zn"][idx], a["rh_ze"][idx], s.noise_per_h)
    cum = rhythm.relearn(a["rh_n"][idx], a["rh_e"][idx], noise=noise)
    a["rh_cum"][idx] = cum
    a["rh_rcum"][idx] = rhythm.relearn_rest(a["rh_rn"][idx], a["rh_re"][idx], cum,
                                            noise=noise)
    a["rh_rest"][idx] = rhythm.rest_window(cum)
    a["in_h"][idx] = thresholds(a["in_m"][idx], s).astype(np.float16)
    mult = a["in_mult"][idx].astype(np.float32)
    a["in_mult"][idx] = (1.0 + (mult - 1.0) * gamma[:, None, None, None]).astype(np.float16)


def _gumbel_y(per_month: float) -> float:
    """Standardised Gumbel level a daily maximum passes on a share `per_month / 30 / BLOCKS`
    of days (the budget split evenly over the blocks; not over the postures: a person is in
    one at a time)."""
    p = min(max(per_month / 30.0 / BLOCKS, 1e-6), 0.5)
    return -math.log(-math.log(1.0 - p))


def lowest_threshold(s: DetectorSettings) -> float:
    """No threshold `thresholds` sets is below this: the caution is at least min_caution
    or 0.8 x an alarm that is at least min_alarm; the fallbacks are multiples of these."""
    return min(s.min_caution, 0.8 * s.min_alarm)


def thresholds(mom: NDArray[Any], s: DetectorSettings) -> NDArray[np.float64]:
    """(m, BLOCKS, POSES, 3) thresholds from the moments (m, BLOCKS, POSES, 4) of each class's
    daily maximum peak: a Gumbel fit by moments, h = μ + y·β for the caution and alarm
    budgets, with the spread never taken below SD_FLOOR x the mean (a few weeks of maxima say
    little about the rare day) and the alarm never below 1.25 x the largest maximum seen.
    A class with fewer than 3 days of maxima takes 1.5 x the highest thresholds of the other
    blocks in the same posture (or, if none has enough, those of any class), and at least
    twice its own largest maximum."""
    n = mom[..., 0].astype(np.float64)
    mean = mom[..., 1] / np.maximum(n, 1e-9)
    var = np.maximum(mom[..., 2] / np.maximum(n, 1e-9) - mean**2, 0.0) * n / np.maximum(n - 1, 1)
    short = np.clip((SHORT_DAYS - n) / (SHORT_DAYS - 3.0), 0.0, 1.0)
    floor = SD_FLOOR[None, None, :] + short * (SD_FLOOR_SHORT - SD_FLOOR[None, None, :])
    sd = np.maximum(np.sqrt(var), floor * mean)
    beta = sd * math.sqrt(6.0) / math.pi
    mu = mean - EULER * beta
    top = TOP_MARGIN[None, None, :] * mom[..., 3].astype(np.float64)
    gumbel = mu + _gumbel_y(s.alarm_per_month) * beta
    # nights in bed: their daily maxima mix nights split by a toilet visit with whole ones,
    # and moments of a mixture overstate the spread; the largest night seen (+30 %) is the bar
    gumbel[:, :, 1] = np.where(n[:, :, 1] >= 5.0, 0.0, gumbel[:, :, 1])
    floor_a = np.broadcast_to(np.array([s.min_alarm, max(s.min_alarm, REST_MIN_ALARM)]),
                              mean.shape)
    h_a = np.maximum.reduce([gumbel, top, floor_a])
    h_c = np.minimum(np.maximum(mu + _gumbel_y(s.caution_per_month) * beta, s.min_caution),
                     0.8 * h_a)
    out = np.stack([h_c, h_a, s.danger_factor * h_a], axis=-1)
    few = (n < 3.0)[..., None]
    known = np.where(few, 0.0, out)
    same_pose = 1.5 * known.max(axis=1, keepdims=True)
    any_class = known.max(axis=(1, 2), keepdims=True)
    fallback = np.where(same_pose > 0, same_pose, np.where(any_class > 0, any_class, 60000.0))
    own = (2.0 * mom[..., 3:4] * np.array([0.8, 1.0, s.danger_factor]))
    out = np.where(few, np.maximum(np.broadcast_to(fallback, out.shape), own), out)
    result: NDArray[np.float64] = np.minimum(out, 60000.0)
    return result

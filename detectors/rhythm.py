"""The person's rhythm: how many signs of life to expect per hour, learned online.

Per household: the rate λ of (deduplicated) signs of life per hour of the local day,
separately for weekdays and weekends, estimated as decayed counts over decayed *exposure* (time
at home, monitored, outside alerted spans), smoothed over ±1 h and shrunk towards the pooled
day and a generic prior while history is short. It is stored as cumulative tables so that the
expected number of signs over any span, Λ(t1, t2) = ∫λ(t)dt, takes a handful of vectorised
operations for every household at once (`integrate`), or a few scalar ones for one
(`integrate_one`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.state import Field

DAY = 86400.0
SLOT_S = 3600.0
SLOTS = 24
#: 0 weekday, 1 weekend
DAYTYPES = 2
#: share of the mean rate below which a slot counts as rest (asleep, resting)
REST_FRACTION = 0.5

FIELDS = (
    #: decayed count of sign units per (daytype, hour) (below 2048: float16 counts exactly)
    Field("rh_n", "float16", (DAYTYPES * SLOTS,)),
    #: decayed exposure, hours at home and monitored, per (daytype, hour)
    Field("rh_e", "float32", (DAYTYPES * SLOTS,)),
    #: cumulative expected signs from local midnight, per daytype, at slot boundaries
    Field("rh_cum", "float32", (DAYTYPES, SLOTS + 1)),
    #: decayed count of noisy (motion, power step) and of all sign units
    Field("rh_noisy", "float32"),
    Field("rh_units", "float32"),
    #: the main rest window (the longest run of rest hours) per daytype, as bits 0..23
    Field("rh_rest", "uint32", (DAYTYPES,)),
    #: the same rate *while resting* (the bed or a seat occupied), by hour, one daytype: how
    #: soon this person usually gets up again at this hour
    Field("rh_rn", "float16", (SLOTS,)),
    Field("rh_re", "float32", (SLOTS,)),
    Field("rh_rcum", "float32", (1, SLOTS + 1)),
    #: motion triggers nobody caused: decayed count and hours, from time nobody was home
    Field("rh_zn", "float32"),
    Field("rh_ze", "float32"),
)

# weekend days among `length` consecutive days starting on weekday `w` (Monday = 0)
_WE = np.array([[sum(1 for k in range(n) if (w + k) % 7 >= 5) for n in range(7)]
                for w in range(7)], dtype=np.int64)
_KERNEL = np.array([1.0, 2.0, 1.0]) / 4.0


def weekday(day: int) -> int:
    """Monday = 0 for a day number since 1970-01-01 (a Thursday)."""
    return (day + 3) % 7


def daytype(day: int) -> int:
    return 1 if weekday(day) >= 5 else 0


def prior_rate() -> NDArray[np.float64]:
    """A generic rhythm (signs per hour) for homes with little history: quiet from 23:00 to
    06:00, busy otherwise. Weak: it weighs about as much as one hour per slot."""
    hours = np.arange(SLOTS) + 0.5
    rate = np.where((hours >= 6.0) & (hours < 23.0), 6.0, 1.0)
    return np.convolve(np.concatenate((rate[-1:], rate, rate[:1])), _KERNEL, "valid")


PRIOR = prior_rate()


def initial_cum() -> NDArray[np.float32]:
    per_slot = PRIOR * (SLOT_S / 3600.0)
    one = np.concatenate(([0.0], np.cumsum(per_slot)))
    return np.stack([one, one]).astype(np.float32)


# -- scalar helpers (one household; used while observing readings) ---------------------
def where(t: float, offset: float) -> tuple[int, float]:
    """(local day number, position in the day in slots [0, 24))."""
    u = t + offset
    day = math.floor(u / DAY)
    return day, (u - day * DAY) / SLOT_S


def slot_index(t: float, offset: float) -> int:
    day, x = where(t, offset)
    return daytype(day) * SLOTS + min(int(x), SLOTS - 1)


def _cum_at(cum: NDArray[Any], typ: int, x: float) -> float:
    typ = min(typ, cum.shape[0] - 1)
    k = min(int(x), SLOTS - 1)
    lo = float(cum[typ, k])
    return lo + (x - k) * (float(cum[typ, k + 1]) - lo)


def integrate_one(cum: NDArray[Any], t1: float, t2: float, offset: float) -> float:
    """Expected signs of life between t1 and t2 (0 when t2 <= t1) for one household."""
    if t2 <= t1:
        return 0.0
    d1, x1 = where(t1, offset)
    d2, x2 = where(t2, offset)
    total = _cum_at(cum, daytype(d2), x2) - _cum_at(cum, daytype(d1), x1)
    n = d2 - d1
    if n:
        full, rem = divmod(n, 7)
        we = 2 * full + int(_WE[weekday(d1), rem])
        total += (n - we) * float(cum[0, SLOTS]) + we * float(cum[-1, SLOTS])
    return total


def rate_one(cum: NDArray[Any], t: float, offset: float) -> float:
    """λ, signs per hour, at time t."""
    day, x = where(t, offset)
    k, typ = min(int(x), SLOTS - 1), min(daytype(day), cum.shape[0] - 1)
    return (float(cum[typ, k + 1]) - float(cum[typ, k])) * 3600.0 / SLOT_S


def mean_rate(cum: NDArray[Any], typ: int) -> float:
    return float(cum[typ, SLOTS]) / 24.0


def is_rest(cum: NDArray[Any], t: float, offset: float) -> bool:
    day = where(t, offset)[0]
    return rate_one(cum, t, offset) < REST_FRACTION * mean_rate(cum, daytype(day))


def usual_wake_slot(cum: NDArray[Any], typ: int) -> int:
    """The slot that ends the longest run of rest slots of the day (the usual waking time)."""
    rate = np.diff(cum[typ].astype(np.float64))
    rest = rate < REST_FRACTION * float(rate.mean())
    best, best_end, run = 0, 12, 0
    for k in range(2 * SLOTS):  # twice round the clock: a night spans midnight
        if rest[k % SLOTS]:
            run += 1
            if run > best and run <= SLOTS:
                best, best_end = run, (k + 1) % SLOTS
        else:
            run = 0
    return best_end


def rest_window(cum: NDArray[Any]) -> NDArray[np.uint64]:
    """(m, 2) bitmasks of each daytype's main rest window from cumulative tables (m, 2, 25):
    the longest circular run of slots whose rate is below REST_FRACTION of the day's mean
    (a night, not a nap)."""
    rate = np.diff(cum.astype(np.float64), axis=-1)
    rest = rate < REST_FRACTION * rate.mean(axis=-1, keepdims=True)
    m = rest.shape[0]
    run = np.zeros((m, DAYTYPES), dtype=np.int64)
    best = np.zeros((m, DAYTYPES), dtype=np.int64)
    best_end = np.zeros((m, DAYTYPES), dtype=np.int64)
    for k in range(2 * SLOTS):
        r = rest[:, :, k % SLOTS]
        run = np.where(r, np.minimum(run + 1, SLOTS), 0)
        better = run > best
        best = np.where(better, run, best)
        best_end = np.where(better, k % SLOTS, best_end)
    bits = np.zeros((m, DAYTYPES), dtype=np.uint64)
    one = np.uint64(1)
    for j in range(SLOTS):
        # slot j is in the window ending at best_end (inclusive) of length best
        back = (best_end - j) % SLOTS
        inside = (back < best) & (best > 0)
        bits |= np.where(inside, one << np.uint64(j), np.uint64(0)).astype(np.uint64)
    return bits


def _span_bits(k1: NDArray[np.int64], k2: NDArray[np.int64]) -> NDArray[np.uint64]:
    """Bits k1..k2 inclusive (k1 <= k2, both in 0..47)."""
    one = np.uint64(1)
    hi = np.left_shift(one, (k2 + 1).astype(np.uint64))
    lo = np.left_shift(one, k1.astype(np.uint64))
    out: NDArray[np.uint64] = (hi - lo).astype(np.uint64)
    return out


def overlaps_rest(bits: NDArray[np.uint64], t1: NDArray[np.float64], t2: NDArray[np.float64],
                  offset: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Does [t1, t2] touch the household's main rest window? (bits: (n, 2))"""
    bits = bits.astype(np.uint64)
    n = t1.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    u1, u2 = t1 + offset, np.maximum(t2, t1) + offset
    d1, d2 = np.floor(u1 / DAY).astype(np.int64), np.floor(u2 / DAY).astype(np.int64)
    k1 = np.minimum(((u1 - d1 * DAY) / SLOT_S).astype(np.int64), SLOTS - 1)
    k2 = np.minimum(((u2 - d2 * DAY) / SLOT_S).astype(np.int64), SLOTS - 1)
    typ1 = (((d1 + 3) % 7) >= 5).astype(np.int64)
    typ2 = (((d2 + 3) % 7) >= 5).astype(np.int64)
    rows = np.arange(n)
    b1, b2 = bits[rows, typ1], bits[rows, typ2]
    last = np.full(n, SLOTS - 1, dtype=np.int64)
    zero = np.zeros(n, dtype=np.int64)
    same = d1 == d2
    hit_same = (b1 & _span_bits(k1, np.maximum(k2, k1))) != 0
    hit_cross = ((b1 & _span_bits(k1, last)) != 0) | ((b2 & _span_bits(zero, k2)) != 0)
    long_span = (d2 - d1 >= 2) & ((b1 | b2) != 0)
    out: NDArray[np.bool_] = np.where(same, hit_same, hit_cross | long_span)
    return out


def overlaps_rest_one(bits: NDArray[Any], t1: float, t2: float, offset: float) -> bool:
    return bool(overlaps_rest(np.asarray(bits, dtype=np.uint64).reshape(1, DAYTYPES),
                              np.array([t1]), np.array([t2]), np.array([offset]))[0])


def add_count(n_row: NDArray[Any], t: float, offset: float, units: float) -> None:
    n_row[slot_index(t, offset) % n_row.shape[0]] += units


def add_exposure(e_row: NDArray[Any], t1: float, t2: float, offset: float,
                 max_span: float = 3 * DAY) -> None:
    """Add the hours of [t1, t2) to the (daytype, hour) slots they fall in."""
    t = max(t1, t2 - max_span)
    while t < t2:
        day, x = where(t, offset)
        k = min(int(x), SLOTS - 1)
        end = min(t2, t + (k + 1 - x) * SLOT_S)
        if end <= t:  # float edge at a slot boundary
            end = min(t2, t + 1.0)
        e_row[(daytype(day) * SLOTS + k) % e_row.shape[0]] += (end - t) / 3600.0
        t = end


# -- vectorised (every household at once) ----------------------------------------------
def integrate(cum: NDArray[Any], t1: NDArray[np.float64], t2: NDArray[np.float64],
              offset: NDArray[np.float64], rows: NDArray[np.int64] | None = None
              ) -> NDArray[np.float64]:
    """Λ(t1, t2) per row; `cum` is (n, D, 25) with D = 2 daytypes or 1 (one profile for all
    days), the others (n,). Zero where t2 <= t1. With `rows`, the tables are `cum[rows]`,
    read in place (a whole state column, not a copy of its rows: the tick's largest cost)."""
    n = t1.shape[0]
    if n == 0:
        return np.zeros(0)
    u1 = t1 + offset
    u2 = np.maximum(t2, t1) + offset
    d1 = np.floor(u1 / DAY)
    d2 = np.floor(u2 / DAY)
    x1 = (u1 - d1 * DAY) / SLOT_S
    x2 = (u2 - d2 * DAY) / SLOT_S
    d1i = d1.astype(np.int64)
    d2i = d2.astype(np.int64)
    wk1 = (d1i + 3) % 7
    wk2 = (d2i + 3) % 7
    d = cum.shape[1]
    flat = cum.reshape(cum.shape[0], d * (SLOTS + 1))
    if rows is None:
        rows = np.arange(n)
    f1 = _interp(flat, rows, np.minimum((wk1 >= 5).astype(np.int64), d - 1), x1)
    f2 = _interp(flat, rows, np.minimum((wk2 >= 5).astype(np.int64), d - 1), x2)
    nd = d2i - d1i
    full, rem = np.divmod(nd, 7)
    we = 2 * full + _WE[wk1, rem]
    whole = (nd - we) * flat[rows, SLOTS] + we * flat[rows, d * (SLOTS + 1) - 1]
    out: NDArray[np.float64] = (whole + f2 - f1).astype(np.float64)
    return np.maximum(out, 0.0)


def _interp(flat: NDArray[Any], rows: NDArray[np.int64], typ: NDArray[np.int64],
            x: NDArray[np.float64]) -> NDArray[np.float64]:
    k = np.minimum(x.astype(np.int64), SLOTS - 1)
    base = typ * (SLOTS + 1) + k
    lo = flat[rows, base].astype(np.float64)
    hi = flat[rows, base + 1].astype(np.float64)
    return lo + (x - k) * (hi - lo)


def rates(cum: NDArray[Any], t: float, offset: NDArray[np.float64]) -> NDArray[np.float64]:
    """λ (signs per hour) at time t for every row."""
    n = offset.shape[0]
    u = t + offset
    d = np.floor(u / DAY).astype(np.int64)
    x = (u - d * DAY) / SLOT_S
    k = np.minimum(x.astype(np.int64), SLOTS - 1)
    typ = np.minimum((((d + 3) % 7) >= 5).astype(np.int64), cum.shape[1] - 1)
    flat = cum.reshape(n, cum.shape[1] * (SLOTS + 1))
    rows = np.arange(n)
    base = typ * (SLOTS + 1) + k
    out: NDArray[np.float64] = (flat[rows, base + 1] - flat[rows, base]).astype(np.float64)
    return out * (3600.0 / SLOT_S)


def noise_rate(zn: NDArray[Any], ze: NDArray[Any], prior: float,
               prior_hours: float = 6.0) -> NDArray[np.float64]:
    """Signs per hour that come with nobody home (pets, sunlight, a chatty PIR), from the
    home's own outings, shrunk towards `prior` by `prior_hours` of pseudo exposure."""
    out: NDArray[np.float64] = (zn.astype(np.float64) + prior * prior_hours) / (
        ze.astype(np.float64) + prior_hours)
    return out


def relearn(n_acc: NDArray[Any], e_acc: NDArray[Any], prior_hours: float = 1.0,
            shrink_hours: float = 2.0, noise: NDArray[Any] | None = None
            ) -> NDArray[np.float32]:
    """New cumulative tables (m, 2, 25) from decayed counts and exposure (m, 48).

    Counts and exposure are smoothed over ±1 h (circular kernel) before dividing, the pooled
    (weekday + weekend) rate is shrunk towards the generic prior by `prior_hours` of pseudo
    exposure, and each daytype towards the pooled rate by `shrink_hours`: a weekend profile
    after a single weekend is mostly the pooled one.
    """
    m = n_acc.shape[0]
    cnt = n_acc.reshape(m, DAYTYPES, SLOTS).astype(np.float64)
    exp = e_acc.reshape(m, DAYTYPES, SLOTS).astype(np.float64)
    cnt_s = _smooth(cnt)
    exp_s = _smooth(exp)
    pooled = (cnt_s.sum(axis=1) + prior_hours * PRIOR) / (exp_s.sum(axis=1) + prior_hours)
    rate = (cnt_s + shrink_hours * pooled[:, None, :]) / (exp_s + shrink_hours)
    if noise is not None:  # the score grows with the signs a living person adds to the noise
        rate = np.maximum(rate - noise[:, None, None], 0.02 * rate)
    per_slot = rate * (SLOT_S / 3600.0)
    cum = np.zeros((m, DAYTYPES, SLOTS + 1))
    cum[:, :, 1:] = np.cumsum(per_slot, axis=2)
    return cum.astype(np.float32)


def relearn_rest(n_acc: NDArray[Any], e_acc: NDArray[Any], up_cum: NDArray[Any],
                 shrink_hours: float = 0.5, noise: NDArray[Any] | None = None
                 ) -> NDArray[np.float32]:
    """(m, 1, 25) cumulative table of the rate while resting, from decayed counts and exposure
    (m, 24) in that posture, shrunk towards the active rate (pooled over daytypes) by
    `shrink_hours`: someone in bed at an hour they never are is judged by their active rate."""
    m = n_acc.shape[0]
    up = np.diff(up_cum.astype(np.float64), axis=-1).mean(axis=1) * (3600.0 / SLOT_S)
    if noise is not None:  # up_cum holds the excess over the noise already
        up = up + noise[:, None]
    rate = (_smooth(n_acc.astype(np.float64)) + shrink_hours * up) / (
        _smooth(e_acc.astype(np.float64)) + shrink_hours)
    if noise is not None:
        rate = np.maximum(rate - noise[:, None], 0.02 * rate)
    cum = np.zeros((m, 1, SLOTS + 1))
    cum[:, 0, 1:] = np.cumsum(rate * (SLOT_S / 3600.0), axis=-1)
    return cum.astype(np.float32)


def _smooth(a: NDArray[np.float64]) -> NDArray[np.float64]:
    padded = np.concatenate((a[..., -1:], a, a[..., :1]), axis=-1)
    out = np.zeros_like(a)
    for j, w in enumerate(_KERNEL):
        out += w * padded[..., j : j + SLOTS]
    return out

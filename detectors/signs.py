"""Signs of life: which readings only a living person causes, and how much each is worth.

* *reliable* signs — a door, cupboard or fridge opened, a flush or tap, an appliance switched
  on, a bed or seat pressure change, a health measurement, a button press: nothing but a person
  makes them, so one of them proves the person was alive at that moment;
* *noisy* signs — a motion trigger, an appliance switched off (many switch themselves off), a
  step up in whole-home power (a kettle, a microwave; never the fridge's small cycles): a person
  usually, but pets, sunlight, a chatty PIR or a thermostat can do it too.

Repeats of one sensor are discounted: a sensor counts at most once per `refractory_s`, and a
PIR that reports motion without ever clearing is *stuck* (see `devices`) and ignored. A noisy
sign is *corroborated* when another device gave a sign shortly before (it then weighs more in
the inactivity score); a reliable sign, or three noisy signs within 20 minutes, *confirm* that
someone is there. The confirmed-sign time drives the fixed
thresholds; the weights drive the learned inactivity score (`inactivity`).
"""

from __future__ import annotations

import enum
import math

from anbu.domain import Kind, Reading
from detectors.settings import DetectorSettings
from detectors.state import Field, Table, rel

NAN = math.nan
BURST_S = 1200.0
BURST_N = 3
#: a burst is *strong* when noise alone would follow its first trigger with this many others
#: less often than this (Poisson, at the home's learned noise rate)
STRONG_P = 0.01


def burst_needed(noise_per_h: float) -> int:
    """Noisy signs within BURST_S that make a strong burst (at least BURST_N): at one
    spurious trigger an hour 4, at 0.25 or less 3."""
    mu = max(noise_per_h, 0.0) * BURST_S / 3600.0
    term = math.exp(-mu)
    tail = 1.0 - term  # P(N >= 1) other triggers within the burst
    k = 1
    while tail > STRONG_P and k < 20:
        term *= mu / k
        tail -= term
        k += 1
    return max(BURST_N, k + 1)


def strong(hh: Table, i: int, sign: Sign, noise_per_h: float) -> bool:
    """Is the sign just counted one that noise can hardly make: a reliable one, or one
    that brings the current burst of noisy ones to `burst_needed`?"""
    return sign == Sign.RELIABLE or int(hh.a["sg_burst_n"][i]) >= burst_needed(noise_per_h)


class Sign(enum.IntEnum):
    NONE = 0
    NOISY = 1
    RELIABLE = 2


_RELIABLE_KINDS = frozenset({Kind.DOOR, Kind.CONTACT, Kind.PRESENCE, Kind.WATER, Kind.HEALTH,
                             Kind.BUTTON})


def classify(r: Reading) -> Sign:
    """The sign a reading gives by itself (power steps need the previous reading: `power`)."""
    k = r.kind
    if k in _RELIABLE_KINDS:
        return Sign.RELIABLE
    if k == Kind.MOTION:
        return Sign.NOISY if r.value == 1.0 else Sign.NONE
    if k == Kind.APPLIANCE:
        return Sign.RELIABLE if r.value == 1.0 else Sign.NOISY
    return Sign.NONE


def is_power_step(prev_w: float, prev_t: float, w: float, t: float,
                  s: DetectorSettings) -> bool:
    """A switched-on appliance: a step up of at least `power_step_w` between two *consecutive*
    meter readings (at most `power_gap_s` apart: with a reading missing, the step cannot be
    placed in time — it may have happened before a silence began). Steps down are ignored
    (kettles and microwaves switch off by themselves); the fridge compressor (80-150 W) stays
    below the step."""
    return (not math.isnan(prev_w) and 0.0 < t - prev_t <= s.power_gap_s
            and w - prev_w >= s.power_step_w)


HH_FIELDS = (
    #: latest counted sign of life (any class), and the device that gave it
    Field("sg_last", "float64", fill=NAN),
    Field("sg_last_dev", "int32", fill=-1),
    #: latest *confirmed* sign: reliable, corroborated, or a burst of noisy ones
    Field("sg_confirmed", "float64", fill=NAN),
    Field("sg_burst_t", "float64", fill=NAN),
    Field("sg_burst_n", "int8"),
)
DEV_FIELDS = (
    #: when this device last counted as a sign (relative seconds, see state.rel)
    Field("dv_sign", "float32", fill=-1e12),
)


def count(hh: Table, dv: Table, i: int, j: int, t: float, sign: Sign,
          s: DetectorSettings) -> tuple[bool, bool]:
    """Register a sign from device `j` of household `i` at `t`.

    Returns (counted, corroborated): a repeat of the same device within the refractory time
    does not count; a reliable sign is always corroborated.
    """
    dv_sign = dv.a["dv_sign"]
    last = float(dv_sign[j])
    rt = rel(t)
    if 0.0 <= rt - last < s.refractory_s:
        return False, False
    if rt > last:
        dv_sign[j] = rt
    last_hh = float(hh.a["sg_last"][i])
    corroborated = sign == Sign.RELIABLE or (
        int(hh.a["sg_last_dev"][i]) != j and abs(t - last_hh) <= s.corroborate_s)
    # confirmation needs more than two noisy signs: spurious pairs are common
    confirmed = sign == Sign.RELIABLE
    if sign == Sign.NOISY:
        b_t = float(hh.a["sg_burst_t"][i])
        if math.isnan(b_t) or t - b_t > BURST_S or t < b_t:
            hh.a["sg_burst_t"][i] = t
            hh.a["sg_burst_n"][i] = 1
        else:
            n = int(hh.a["sg_burst_n"][i]) + 1
            hh.a["sg_burst_n"][i] = min(n, 100)
            confirmed = confirmed or n >= BURST_N
    if math.isnan(last_hh) or t >= last_hh:
        hh.a["sg_last"][i] = t
        hh.a["sg_last_dev"][i] = j
    if confirmed:
        c = float(hh.a["sg_confirmed"][i])
        if math.isnan(c) or t > c:
            hh.a["sg_confirmed"][i] = t
    return True, corroborated

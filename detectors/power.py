"""Power use: the Seoul smart-plug rule, on the whole-home meter, with the home's own usual.

* *flat*: no appliance switched on (a meter step up of `power_step_w`) for 24 h is a caution,
  for 50 h an alarm — the smart-plug programme's "no change in power for 24-50 h";
* *low*: energy over the last ~48 h below half of the home's usual 48 h (learned daily, only
  from days at home) is a caution — "the last 50 h below 50 % of usual".

Both only while the person is at home and the meter reports; the learned inactivity score
normally fires long before, and these rules matter in homes where the meter is the only sensor.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from detectors.settings import DetectorSettings
from detectors.state import Field, Table, rel

NAN = math.nan
BIN_S = 4 * 3600.0
NBINS = 12

FIELDS = (
    Field("pw_w", "float32", fill=NAN),
    Field("pw_t", "float64", fill=NAN),
    #: first reading and last appliance switched on (relative seconds, see state.rel)
    Field("pw_first", "float32", fill=NAN),
    Field("pw_step", "float32", fill=NAN),
    #: Wh per 4-hour bin over the last 48 h (a ring), and the current bin number
    Field("pw_bins", "float32", (NBINS,)),
    Field("pw_bin", "int32", fill=-1),
    Field("pw_usual", "float32"),
    #: flat, low
    Field("pw_level", "int8", (2,)),
)


def on_power(hh: Table, i: int, t: float, w: float, is_step: bool) -> None:
    a = hh.a
    prev_w, prev_t = float(a["pw_w"][i]), float(a["pw_t"][i])
    if math.isnan(a["pw_first"][i]):
        a["pw_first"][i] = rel(t)
    b = int(t // BIN_S)
    cur = int(a["pw_bin"][i])
    if b > cur:
        for k in range(max(cur + 1, b - NBINS + 1), b + 1):
            a["pw_bins"][i, k % NBINS] = 0.0
        a["pw_bin"][i] = b
    if not math.isnan(prev_w) and 0.0 < t - prev_t <= 900.0 and b >= cur:
        a["pw_bins"][i, b % NBINS] += prev_w * (t - prev_t) / 3600.0
    if is_step:
        a["pw_step"][i] = rel(t)
        a["pw_level"][i, 0] = 0
    if math.isnan(prev_t) or t >= prev_t:
        a["pw_w"][i] = w
        a["pw_t"][i] = t


def levels(hh: Table, idx: NDArray[np.int64], now: float, warm: NDArray[np.bool_],
           s: DetectorSettings) -> NDArray[np.int8]:
    """(m, 2) wanted levels (flat, low) for households `idx` (at home, monitored)."""
    a = hh.a
    reporting = now - np.nan_to_num(a["pw_t"][idx], nan=-1e18) < 3600.0
    since = np.where(np.isnan(a["pw_step"][idx]), a["pw_first"][idx], a["pw_step"][idx])
    quiet = np.nan_to_num(rel(now) - since.astype(np.float64), nan=0.0)
    flat = ((quiet >= s.power_flat_h[0] * 3600.0).astype(np.int8)
            + (quiet >= s.power_flat_h[1] * 3600.0))
    total = a["pw_bins"][idx].sum(axis=1)
    usual = a["pw_usual"][idx]
    low = warm & (usual > 0) & (total < s.power_low_share * usual)
    out = np.stack([flat, low.astype(np.int8)], axis=1)
    return np.where(reporting[:, None], out, 0).astype(np.int8)


def new_day(hh: Table, idx: NDArray[np.int64], home_all_day: NDArray[np.bool_]) -> None:
    """Learn the usual 48 h energy from days spent at home (an EWMA over ~2 weeks)."""
    a = hh.a
    rows = idx[home_all_day & ~np.isnan(a["pw_first"][idx])]
    if rows.shape[0] == 0:
        return
    total = a["pw_bins"][rows].sum(axis=1)
    usual = a["pw_usual"][rows]
    a["pw_usual"][rows] = np.where(usual > 0, 0.93 * usual + 0.07 * total, total)

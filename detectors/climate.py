"""Indoor heat and cold (폭염, 한파): the home's env sensor above or below a limit for a while,
while the person is at home. Caution past the first limit, alarm past the second, each held
for `climate_span_s`; a margin of 0.5 °C keeps a reading hovering at the limit from flapping."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from detectors.settings import DetectorSettings
from detectors.state import Field, Table, rel

NAN = math.nan
HYSTERESIS_C = 0.5

FIELDS = (
    Field("cl_temp", "float32", fill=NAN),
    #: since when the temperature is past each limit: heat caution, heat alarm, cold caution,
    #: cold alarm (relative seconds, see state.rel; NaN: not past it)
    Field("cl_since", "float32", (4,), fill=NAN),
    Field("cl_level", "int8", (2,)),
)


def on_env(hh: Table, i: int, t: float, temp: float, s: DetectorSettings) -> None:
    a = hh.a
    a["cl_temp"][i] = temp
    past = (temp >= s.heat_c[0], temp >= s.heat_c[1], temp <= s.cold_c[0], temp <= s.cold_c[1])
    back = (temp < s.heat_c[0] - HYSTERESIS_C, temp < s.heat_c[1] - HYSTERESIS_C,
            temp > s.cold_c[0] + HYSTERESIS_C, temp > s.cold_c[1] + HYSTERESIS_C)
    for k in range(4):
        since = float(a["cl_since"][i, k])
        if past[k] and math.isnan(since):
            a["cl_since"][i, k] = rel(t)
        elif back[k]:
            a["cl_since"][i, k] = NAN
    if back[0]:
        a["cl_level"][i, 0] = 0
    if back[2]:
        a["cl_level"][i, 1] = 0


def levels(hh: Table, idx: NDArray[np.int64], now: float, s: DetectorSettings
           ) -> NDArray[np.int8]:
    """(m, 2) wanted levels (heat, cold) for households `idx` (at home, monitored)."""
    span = rel(now) - hh.a["cl_since"][idx].astype(np.float64)
    held = np.nan_to_num(span, nan=-1.0) >= s.climate_span_s
    heat = held[:, 0].astype(np.int8) + held[:, 1]
    cold = held[:, 2].astype(np.int8) + held[:, 3]
    return np.stack([heat, cold], axis=1).astype(np.int8)

"""Vital signs out of the resident's own range, and the SOS button.

Each health metric keeps a running mean and variance of the resident's *normal* readings
(readings that raised a finding are not learned). A reading far from the resident's own mean
(`vitals_z` standard deviations, with a floor of 3 % of the mean) is a caution; one that is
also outside a broad clinical band (e.g. SpO2 < 90 %, systolic >= 180 mmHg) is an alarm — as is
a reading outside the clinical band before five readings are known. A resident whose normal is
outside the band (chronic hypertension) raises nothing for readings in their own range.
The SOS button raises `danger` at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from anbu.contract import HEALTH_METRICS
from detectors.settings import DetectorSettings
from detectors.state import Field, Table

NAN = math.nan
METRICS = list(HEALTH_METRICS)
#: (low, high) outside which a reading is clinically worrying (None: no bound)
CLINICAL: dict[str, tuple[float | None, float | None]] = {
    "systolic_mmhg": (90.0, 180.0),
    "diastolic_mmhg": (50.0, 110.0),
    "pulse_bpm": (45.0, 120.0),
    "spo2_pct": (90.0, None),
    "glucose_mg_dl": (70.0, 300.0),
    "weight_kg": (None, None),
    "body_temp_c": (35.0, 38.5),
}
NAMES_KO = {"systolic_mmhg": "수축기 혈압", "diastolic_mmhg": "이완기 혈압",
            "pulse_bpm": "맥박", "spo2_pct": "산소포화도", "glucose_mg_dl": "혈당",
            "weight_kg": "체중", "body_temp_c": "체온"}
MIN_N = 5

FIELDS = (
    Field("vt_mean", "float16", (len(METRICS),)),
    Field("vt_var", "float16", (len(METRICS),)),
    Field("vt_n", "float16", (len(METRICS),)),
    #: the latest out-of-range reading: severity, metric, value, time; and what was reported
    Field("vt_sev", "int8"),
    Field("vt_metric", "int8"),
    Field("vt_value", "float32"),
    Field("vt_t", "float64", fill=NAN),
    Field("vt_level", "int8"),
    Field("so_t", "float64", fill=NAN),
    Field("so_done", "float64", fill=NAN),
)


def on_health(hh: Table, i: int, t: float, data: Mapping[str, Any],
              s: DetectorSettings) -> None:
    a = hh.a
    worst = 0
    for m, name in enumerate(METRICS):
        x = data.get(name)
        if not isinstance(x, int | float):
            continue
        x = float(x)
        n = float(a["vt_n"][i, m])
        mean = float(a["vt_mean"][i, m])
        sd = math.sqrt(max(float(a["vt_var"][i, m]), (0.03 * mean) ** 2, 1e-6))
        personal = n >= MIN_N and abs(x - mean) >= s.vitals_z * sd
        lo, hi = CLINICAL[name]
        clinical = (lo is not None and x < lo) or (hi is not None and x > hi)
        sev = 2 if clinical and (personal or n < MIN_N) else (1 if personal else 0)
        if sev:
            if sev > worst:
                worst = sev
                a["vt_metric"][i] = m
                a["vt_value"][i] = x
            continue
        # learn the resident's normal (a running mean over the last ~30 readings)
        alpha = 1.0 / min(n + 1.0, 30.0)
        d = x - mean
        a["vt_mean"][i, m] = mean + alpha * d
        a["vt_var"][i, m] = (1 - alpha) * (float(a["vt_var"][i, m]) + alpha * d * d)
        a["vt_n"][i, m] = n + 1.0
    if worst:
        a["vt_sev"][i] = worst
        a["vt_t"][i] = t
    else:
        a["vt_sev"][i] = 0
        a["vt_level"][i] = 0


def range_of(hh: Table, i: int, m: int, s: DetectorSettings) -> tuple[float, float]:
    mean = float(hh.a["vt_mean"][i, m])
    sd = math.sqrt(max(float(hh.a["vt_var"][i, m]), (0.03 * mean) ** 2, 1e-6))
    if hh.a["vt_n"][i, m] < MIN_N:
        lo, hi = CLINICAL[METRICS[m]]
        return (lo if lo is not None else 0.0), (hi if hi is not None else 999.0)
    return mean - s.vitals_z * sd, mean + s.vitals_z * sd


def on_button(hh: Table, i: int, t: float, action: object) -> None:
    if action == "sos":
        last = float(hh.a["so_t"][i])
        if math.isnan(last) or t > last:
            hh.a["so_t"][i] = t

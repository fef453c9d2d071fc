"""Outdoor and indoor temperature, and the env sensor that reports them every 10 minutes.

Outdoor: Seoul's seasonal mean (about −2 °C in January, 26 °C in early August), a daily swing
with the low near 05:00 and the high near 15:00, a day-to-day weather anomaly (AR(1)), and heat
waves (폭염) that push the daily high to 35–38 °C. Indoor: a first-order model — the room drifts
towards a free-running temperature set by the outdoor air and the building (poorly insulated
flats get hot), the gas boiler (ondol) holds a set point in the heating season while the person
is home, and an AC, when on, pulls the room to ~26 °C. A heat wave without cooling therefore
shows as indoor temperatures above 31–33 °C in the afternoon and evening.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from simulators.core import LocalCalendar

STEP_S = 600.0


class Climate:
    def __init__(self, rng: np.random.Generator, cal: LocalCalendar, start: float,
                 heat_waves: tuple[tuple[float, float], ...] = ()) -> None:
        self.rng, self.cal = rng, cal
        self.heat_waves = heat_waves
        self.anomaly: dict[date, float] = {}
        self._last_anomaly = float(rng.normal(0, 2.0))
        self.insulation = float(rng.uniform(0.6, 0.85))  # share of outdoor swing indoors
        self.setpoint = float(rng.uniform(19.5, 23.0))
        first, _ = self.outdoor(np.array([start]))
        free = self.insulation * float(first[0]) + (1 - self.insulation) * 24.0 + 2.0
        self.t_in = free if self._mean(start) > 15 else self.setpoint
        self.phase = start + float(rng.uniform(0, STEP_S))
        self.humid_base = float(rng.uniform(-5, 5))

    def _day_anomaly(self, d: date) -> float:
        if d not in self.anomaly:
            self._last_anomaly = 0.7 * self._last_anomaly + float(self.rng.normal(0, 1.6))
            self.anomaly[d] = self._last_anomaly
        return self.anomaly[d]

    def _mean(self, t: float) -> float:
        doy = self.cal.date_of(t).timetuple().tm_yday
        return 12.0 - 14.0 * math.cos(2 * math.pi * (doy - 20) / 365.0)

    def in_heat_wave(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.heat_waves)

    def outdoor(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outdoor temperature at each time, and the seasonal mean of its day (vectorised)."""
        if ts.shape[0] == 0:
            return ts.copy(), ts.copy()
        cal = self.cal
        d0 = cal.date_of(float(ts[0])) - timedelta(days=1)
        n_days = int((ts[-1] - ts[0]) // 86400) + 3
        days = [d0 + timedelta(days=i) for i in range(n_days)]
        mids = np.array([cal.midnight(d) for d in days])
        j = np.searchsorted(mids, ts, side="right") - 1
        season = np.array([12.0 - 14.0 * math.cos(2 * math.pi * (d.timetuple().tm_yday - 20)
                                                   / 365.0) for d in days])
        anomaly = np.array([self._day_anomaly(d) for d in days])
        mean, amp = season[j] + anomaly[j], np.full(ts.shape[0], 4.5)
        for a, b in self.heat_waves:
            m = (ts >= a) & (ts < b)
            mean[m] = np.maximum(mean[m], 31.0 + 0.3 * anomaly[j[m]])
            amp[m] = 5.5
        hours = (ts - mids[j]) / 3600.0
        return mean + amp * np.cos(2 * np.pi * (hours - 15.0) / 24.0), season[j]

    def day_stats(self, d: date) -> tuple[float, float]:
        """(mean, max) outdoor temperature of a local date: the person decides AC and mat."""
        m = self.cal.midnight(d)
        temps, _ = self.outdoor(m + 3600.0 * np.arange(24) + 1800.0)
        return float(temps.mean()), float(temps.max())

    def render(self, a: float, b: float, home: list[tuple[float, float]],
               ac: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Readings in [a, b): (t, temp_c, humidity_pct). `home`/`ac`: spans at home / AC on."""
        k0 = math.ceil((a - self.phase) / STEP_S)
        k1 = math.ceil((b - self.phase) / STEP_S)
        ts = self.phase + STEP_S * np.arange(k0, k1, dtype=np.float64)
        n = ts.shape[0]
        out, season = self.outdoor(ts)
        free = self.insulation * out + (1 - self.insulation) * 24.0 + 2.0
        cooling, at_home = _within(ts, ac), _within(ts, home)
        heating = season < 15.0
        setpoint = np.where(at_home, self.setpoint, self.setpoint - 3.0)
        target = np.where(cooling, 26.0, np.where(heating, np.maximum(setpoint, free), free))
        tau = np.where(cooling, 1800.0, np.where(heating, 3600.0, 4 * 3600.0))
        k = (1 - np.exp(-STEP_S / tau)).tolist()
        temps: list[float] = []
        t_in = self.t_in
        for tg, kk in zip(target.tolist(), k, strict=True):
            t_in += (tg - t_in) * kk
            temps.append(t_in)
        self.t_in = t_in
        temp = np.round(np.asarray(temps) + self.rng.normal(0.0, 0.08, n), 1)
        hum = 55.0 + 15.0 * np.sin(2 * np.pi * (self.month(ts) - 4) / 12) + self.humid_base
        hum = hum + self.rng.normal(0.0, 1.2, n) - 8.0 * cooling
        return ts, temp, np.round(np.clip(hum, 15.0, 95.0), 1)

    def month(self, ts: np.ndarray) -> np.ndarray:
        if ts.shape[0] == 0:
            return ts.copy()
        return np.full(ts.shape[0], float(self.cal.date_of(float(ts[0])).month))


def _within(ts: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """Mask of times inside any of the (sorted, non-overlapping) spans."""
    if not spans:
        return np.zeros(ts.shape[0], dtype=bool)
    s = np.array([x[0] for x in spans])
    e = np.array([x[1] for x in spans])
    j = np.searchsorted(s, ts, side="right") - 1
    return (j >= 0) & (ts < e[np.maximum(j, 0)])

"""The whole-home power meter: standby load, fridge cycles, appliances the person switches.

The meter (`plug-main`, kind `power`) reports instantaneous watts `w` and cumulative
watt-hours `wh` every `interval_s` seconds. The load is piecewise constant: standby, a fridge
compressor cycling on and off by itself, and the appliance loads of the behaviour model. Energy
is integrated exactly between change points. A reading is *person-caused* when a step the person
made (switching something on or off) happened since the previous reading — so a TV left on after
a collapse keeps showing in the watts, but as background, never as a new sign of life.
"""

from __future__ import annotations

import math

import numpy as np

from simulators.core import Cause
from simulators.plan import Load

P = int(Cause.PERSON)


class PowerMeter:
    def __init__(self, rng: np.random.Generator, start: float, standby_w: float,
                 fridge_w: float, interval_s: float = 60.0) -> None:
        self.rng = rng
        self.standby = standby_w
        self.fridge_w = fridge_w
        self.interval = interval_s
        #: first reading time; readings fall on phase + k * interval
        self.phase = start + float(rng.uniform(0, interval_s))
        self.loads: list[Load] = []
        self.energy_wh = float(rng.uniform(1e4, 5e5))  # the meter has run for a while
        self.t_energy = start
        self.last_sample = start - interval_s
        # fridge compressor: state and the time of its next switch
        self.fridge_on = bool(rng.random() < 0.35)
        self.fridge_next = start + float(rng.uniform(0, 1800))

    def add(self, loads: list[Load]) -> None:
        self.loads.extend(loads)

    def _fridge(self, a: float, b: float) -> list[Load]:
        out: list[Load] = []
        r = self.rng
        on_since = a if self.fridge_on else None
        while self.fridge_next < b:
            t = self.fridge_next
            if self.fridge_on:
                out.append((on_since if on_since is not None else a, t, self.fridge_w,
                            "fridge", 0, 0, False, False))
                on_since = None
                self.fridge_next = t + 60.0 * max(8.0, r.normal(34, 6))
            else:
                on_since = t
                self.fridge_next = t + 60.0 * max(6.0, r.normal(17, 3))
            self.fridge_on = not self.fridge_on
        if self.fridge_on and on_since is not None:
            out.append((on_since, b, self.fridge_w, "fridge", 0, 0, False, False))
        return out

    def render(self, a: float, b: float) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                  np.ndarray]:
        """Readings in [a, b): (t, w, wh, cause). Loads ending before `b` are forgotten."""
        k0 = math.ceil((a - self.phase) / self.interval)
        k1 = math.ceil((b - self.phase) / self.interval)
        ts = self.phase + self.interval * np.arange(k0, k1, dtype=np.float64)
        ts = ts[ts >= a]
        loads = [ld for ld in self.loads if ld[0] < b and ld[1] > a] + self._fridge(a, b)
        base = self.standby
        cp_t: list[float] = []
        cp_d: list[float] = []
        person: list[float] = []
        for on, off, w, _name, c_on, c_off, _o, _c in loads:
            if on <= a:
                base += w
            else:
                cp_t.append(on)
                cp_d.append(w)
                if c_on == P:
                    person.append(on)
            if off < b:
                cp_t.append(off)
                cp_d.append(-w)
                if c_off == P:
                    person.append(off)
        order = np.argsort(np.asarray(cp_t, dtype=np.float64), kind="stable")
        ct = np.asarray(cp_t, dtype=np.float64)[order]
        cd = np.asarray(cp_d, dtype=np.float64)[order]
        # level after each change point, energy (Wh) at each change point
        level = base + np.cumsum(cd)
        seg_t = np.concatenate(([a], ct))
        seg_l = np.concatenate(([base], level))
        seg_e = self.energy_wh + np.concatenate(
            ([0.0], np.cumsum(seg_l[:-1] * np.diff(seg_t)) / 3600.0)
        )
        j = np.searchsorted(seg_t, ts, side="right") - 1
        w_now = seg_l[j]
        wh = seg_e[j] + w_now * (ts - seg_t[j]) / 3600.0
        jb = int(np.searchsorted(seg_t, b, side="right") - 1)
        self.energy_wh = float(seg_e[jb] + seg_l[jb] * (b - seg_t[jb]) / 3600.0)
        # a reading is person-caused when a person step fell since the previous reading
        pt = np.sort(np.asarray(person, dtype=np.float64))
        prev = np.concatenate(([self.last_sample], ts[:-1]))
        caused = np.searchsorted(pt, ts, side="right") > np.searchsorted(pt, prev, side="right")
        if ts.shape[0]:
            self.last_sample = float(ts[-1])
        noise = self.rng.normal(0.0, 0.6, ts.shape[0]) + w_now * self.rng.normal(
            0.0, 0.008, ts.shape[0])
        w_out = np.round(np.maximum(w_now + noise, 0.0), 1)
        self.loads = [ld for ld in self.loads if ld[1] >= b]
        return ts, w_out, np.round(wh, 2), np.where(caused, P, 0).astype(np.int8)

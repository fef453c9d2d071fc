"""Scenario kinds, named mixes, and what each means for one household (with its labels).

A *mix* says which share of households gets a scenario and how the kinds are weighted. Kinds:

* person incidents (simulators.incidents): collapse, death_in_bed, fall, hospitalised, sos;
* day scenarios: long_outing (normal, but long: 10–56 h away), abnormal_vitals (one day of
  readings far outside the person's normal, yet physically plausible), heat_wave (three days of
  35–38 °C highs and no cooling), decline (over weeks: less activity, fewer outings and cooked
  meals, rising later, more naps);
* device faults (simulators.faults): dead_battery, stuck_sensor, spurious_motion, clock_skew,
  gateway_offline, message_loss.

Named mixes: `none`, `default`, `incidents`, `faults`, `all`, any single kind, or a comma list of
kinds (`collapse,hospitalised`) meaning every household gets one of them.
Incidents fall after a warm-up (a week, or half of a shorter run) so detectors can learn first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from simulators.core import Label, LocalCalendar
from simulators.faults import NO_FAULTS, FaultPlan
from simulators.home import DeviceSpec, Home
from simulators.incidents import PERSON_INCIDENTS
from simulators.plan import DayMods

DAY_SCENARIOS = ("long_outing", "abnormal_vitals", "heat_wave", "decline")
DEVICE_FAULTS = ("dead_battery", "stuck_sensor", "spurious_motion", "clock_skew",
                 "gateway_offline", "message_loss")
KINDS = PERSON_INCIDENTS + DAY_SCENARIOS + DEVICE_FAULTS
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Mix:
    name: str
    #: share of households that get one scenario kind
    share: float
    kinds: tuple[tuple[str, float], ...] = ()
    #: light message faults every household gets (drop, duplicate, delay probabilities)
    noise: tuple[float, float, float] = (0.0, 0.0, 0.0)


MIXES: dict[str, Mix] = {
    m.name: m
    for m in (
        Mix("none", 0.0),
        Mix("default", 0.15,
            tuple((k, 1.0) for k in PERSON_INCIDENTS + DAY_SCENARIOS)
            + tuple((k, 0.5) for k in DEVICE_FAULTS),
            noise=(0.002, 0.002, 0.002)),
        Mix("incidents", 1.0, tuple((k, 1.0) for k in PERSON_INCIDENTS + DAY_SCENARIOS)),
        Mix("faults", 1.0, tuple((k, 1.0) for k in DEVICE_FAULTS), noise=(0.01, 0.01, 0.01)),
        Mix("all", 1.0, tuple((k, 1.0) for k in KINDS), noise=(0.002, 0.002, 0.002)),
    )
}


def get_mix(name: str) -> Mix:
    """A named mix, a single kind, or a comma list of kinds (each household gets one)."""
    if name in MIXES:
        return MIXES[name]
    kinds = tuple(k.strip() for k in name.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if not kinds or bad:
        raise ValueError(
            f"unknown scenario mix {name!r}; use one of {', '.join(MIXES)} or kinds from "
            f"{', '.join(KINDS)}"
        )
    return Mix(name, 1.0, tuple((k, 1.0) for k in kinds))


def pick_kind(mix: Mix, rng: np.random.Generator, index: int) -> str | None:
    """The scenario kind of household `index`: when every household gets one and the kinds
    weigh the same, they take turns (balanced for evaluation); otherwise drawn by weight."""
    u, v = float(rng.random()), float(rng.random())
    if u >= mix.share or not mix.kinds:
        return None
    weights = [w for _, w in mix.kinds]
    if mix.share >= 1.0 and min(weights) == max(weights):
        return mix.kinds[index % len(mix.kinds)][0]
    w = np.array(weights, dtype=np.float64)
    cum = np.cumsum(w / w.sum())
    return mix.kinds[min(int(np.searchsorted(cum, v)), len(cum) - 1)][0]


def extra_devices(kind: str | None) -> tuple[DeviceSpec, ...]:
    """Devices a scenario needs (a health monitor for abnormal vitals)."""
    if kind == "abnormal_vitals":
        return (DeviceSpec("bp-1", "health", "living", metrics="bp"),
                DeviceSpec("oxi-1", "health", "bedroom", metrics="oximeter"))
    return ()


@dataclass(slots=True)
class Scenario:
    """What one household's run holds beyond ordinary life."""

    kind: str | None = None
    #: person incident: look for its moment from this time on
    incident_at: float | None = None
    long_outing: tuple[float, float] | None = None
    heat_waves: tuple[tuple[float, float], ...] = ()
    no_cooling_days: frozenset[date] = frozenset()
    decline_from: float | None = None
    abnormal_day: date | None = None
    faults: FaultPlan = NO_FAULTS
    labels: list[Label] = field(default_factory=list)
    #: the long outing was handed to the planner (for the day it starts on)
    away_offered: bool = False

    def mods(self, d: date, cal: LocalCalendar, outdoor: tuple[float, float]) -> DayMods:
        m0 = cal.midnight(d)
        s = 0.0
        if self.decline_from is not None and m0 > self.decline_from:
            s = min(1.0, (m0 - self.decline_from) / (28 * DAY))
        away = None
        if self.long_outing is not None and cal.date_of(self.long_outing[0]) == d:
            away = self.long_outing
            self.away_offered = True
        return DayMods(
            activity=1.0 - 0.45 * s,
            outings=1.0 - 0.8 * s,
            cooking=1.0 - 0.5 * s,
            wake_delay_h=1.5 * s,
            nap_extra=0.4 * s,
            sedentary=1.0 + 1.5 * s,
            no_cooling=d in self.no_cooling_days,
            abnormal_vitals=d == self.abnormal_day,
            outdoor_mean_c=outdoor[0],
            outdoor_max_c=outdoor[1],
            away=away,
        )


def plan_scenario(kind: str | None, mix: Mix, home: Home, rng: np.random.Generator,
                  start: float, end: float) -> Scenario:
    """Times and parameters of `kind` for one household, and the labels known up front."""
    hh, span = home.household, end - start
    warm = min(7 * DAY, 0.5 * span)
    cal = LocalCalendar(home.timezone)
    sc = Scenario(kind=kind)
    drop, dup, delay = mix.noise
    faults = FaultPlan(drop_p=drop, dup_p=dup, delay_p=delay)

    def when(lo_frac: float = 0.0, tail: float = 3 * 3600.0) -> float:
        lo = start + warm + lo_frac * (span - warm)
        return round(lo + float(rng.random()) * max(end - tail - lo, 0.0), 3)  # labels: ms

    pirs = [d.id for d in home.devices if d.kind == "motion"]
    if kind in PERSON_INCIDENTS:  # leave room for a suitable moment (awake, asleep...)
        sc.incident_at = when(tail=min(14 * 3600.0, 0.25 * span))
    elif kind == "long_outing":
        d = cal.date_of(when(tail=12 * 3600.0))
        a = round(cal.midnight(d) + 3600.0 * float(rng.uniform(9.5, 13.0)), 3)
        sc.long_outing = (a, round(a + 3600.0 * float(rng.uniform(10, 56)), 3))
    elif kind == "heat_wave":
        d0 = cal.date_of(when(tail=DAY))
        days = [d0 + timedelta(days=i) for i in range(3)]
        a, b = cal.midnight(days[0]), min(cal.midnight(days[-1] + timedelta(days=1)), end)
        sc.heat_waves = ((a, b),)
        sc.no_cooling_days = frozenset(days)
        sc.labels.append(Label(hh, "heat_wave", a, b))
    elif kind == "decline":
        sc.decline_from = start + warm * 0.5
        sc.labels.append(Label(hh, "decline", sc.decline_from, None))
    elif kind == "abnormal_vitals":
        d = cal.date_of(when(tail=DAY))
        sc.abnormal_day = d
        sc.labels.append(Label(hh, "abnormal_vitals", cal.midnight(d),
                               cal.midnight(d + timedelta(days=1))))
    elif kind == "dead_battery":
        dev = pirs[int(rng.integers(len(pirs)))]
        t = when(lo_frac=0.0, tail=6 * 3600.0)
        faults = _with(faults, dead_battery=(dev, t))
        sc.labels.append(Label(hh, "dead_battery", t, None, dev))
    elif kind == "stuck_sensor":
        dev = pirs[int(rng.integers(len(pirs)))]
        t = when()
        faults = _with(faults, stuck=(dev, t))
        sc.labels.append(Label(hh, "stuck_sensor", t, None, dev))
    elif kind == "spurious_motion":
        dev = pirs[int(rng.integers(len(pirs)))]
        spec = (dev, 2.0, (0.0, 24.0)) if rng.random() < 0.5 else (dev, 6.0, (13.0, 16.0))
        faults = _with(faults, spurious=(spec,))
        sc.labels.append(Label(hh, "spurious_motion", start, None, dev))
    elif kind == "clock_skew":
        devs = [d.id for d in home.devices if d.kind in ("motion", "door", "power")]
        dev = devs[int(rng.integers(len(devs)))]
        offset = 6 * 3600.0 if rng.random() < 0.5 else -10 * DAY
        a = when(tail=DAY)
        b = round(min(a + DAY * float(rng.uniform(0.5, 3.0)), end), 3)
        faults = _with(faults, skew=(dev, offset, a, b))
        sc.labels.append(Label(hh, "clock_skew", a, b, dev))
    elif kind == "gateway_offline":
        a = when(tail=10 * 3600.0)
        b = round(a + 3600.0 * float(rng.uniform(2, 8)), 3)
        faults = _with(faults, gateway_offline=((a, b),))
        sc.labels.append(Label(hh, "gateway_offline", a, b, "gw-1"))
    elif kind == "message_loss":
        faults = _with(faults, drop_p=0.05, dup_p=0.02, delay_p=0.02)
        sc.labels.append(Label(hh, "message_loss", start, end))
    sc.faults = faults
    return sc


def _with(f: FaultPlan, **kw: object) -> FaultPlan:
    from dataclasses import replace

    return replace(f, **kw)  # type: ignore[arg-type]

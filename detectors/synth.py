"""A scripted home for unit tests: readings of one person's days, seeded and exact.

Much simpler than `simulators` (no MQTT, no personas): each day the person wakes, is active
at home (motion in three rooms, the fridge, the toilet), may nap in bed, may go out through
the front door, and goes to bed; the gateway beats every 10 minutes, the meter reports every
minute (standby, fridge cycles, a kettle at breakfast), the room temperature every 10 minutes
and battery devices every 6 hours. Options stop the person at a moment (an incident), take the
gateway offline, add spurious PIR triggers or a stuck PIR. Readings come out in time order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from anbu.domain import Kind, Reading

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Day:
    """Local hours of one day's plan (bed may be past 24)."""

    wake: float = 7.0
    bed: float = 22.5
    nap: tuple[float, float] | None = None
    outing: tuple[float, float] | None = None


@dataclass(slots=True)
class Home:
    household: str = "hh-t"
    timezone: str = "Asia/Seoul"
    #: first local midnight (a Monday by default)
    start: datetime = field(default_factory=lambda: datetime(2026, 6, 1, tzinfo=ZoneInfo(
        "Asia/Seoul")))
    days: int = 10
    seed: int = 1
    plan: Callable[[int], Day] = lambda d: Day()
    #: the person stops here (nothing they cause happens after), epoch seconds
    stop_at: float | None = None
    #: gateway offline spans (epoch seconds): nothing at all gets through
    gateway_down: tuple[tuple[float, float], ...] = ()
    spurious_per_h: float = 0.0
    #: (device, from) a PIR stuck reporting motion every 30 s
    stuck: tuple[str, float] | None = None
    #: motion events per hour while awake at home
    active_rate: float = 20.0
    temp_c: float = 24.0
    battery: float = 80.0
    _kettles: list[tuple[float, float]] = field(default_factory=list)

    def midnight(self, d: int) -> float:
        return self.start.timestamp() + d * DAY

    def readings(self) -> list[Reading]:
        rng = np.random.default_rng(self.seed)
        ev: list[tuple[float, str, Kind, float | None, dict[str, object]]] = []
        person: list[tuple[float, str, Kind, float | None, dict[str, object]]] = []
        for d in range(self.days):
            self._day(d, rng, person)
        cut = self.stop_at
        ev += [e for e in person if cut is None or e[0] < cut]
        kettles = [(self.midnight(d) + (self.plan(d).wake + 0.4) * 3600.0) for d in range(
            self.days)]
        self._kettles = [(t, t + 180.0) for t in kettles if cut is None or t < cut]
        self._background(rng, ev)
        ev = [e for e in ev if not any(a <= e[0] < b for a, b in self.gateway_down)]
        for a, b in self.gateway_down:
            ev.append((a + 90.0, "gw-1", Kind.STATUS, None, {"online": False,
                                                            "role": "gateway"}))
            ev.append((b, "gw-1", Kind.STATUS, None, {"online": True, "role": "gateway"}))
        # a PIR clears 60-90 s after the last movement it saw (a stuck one never does)
        stuck = self.stuck[0] if self.stuck else None
        moves = sorted((e[0], e[1]) for e in ev if e[2] == Kind.MOTION and e[1] != stuck)
        last: dict[str, float] = {}
        for t, dev in moves:
            last[dev] = t
        clears: dict[str, list[float]] = {}
        prev: dict[str, float] = {}
        for t, dev in moves:
            p = prev.get(dev)
            if p is not None and t - p > 75.0:
                clears.setdefault(dev, []).append(p + 75.0)
            prev[dev] = t
        for dev, t in last.items():
            clears.setdefault(dev, []).append(t + 75.0)
        for dev, ts in clears.items():
            for t in ts:
                if not any(a <= t < b for a, b in self.gateway_down):
                    ev.append((t, dev, Kind.MOTION, 0.0, {"motion": False}))
        ev.sort(key=lambda e: (e[0], e[1]))
        seq: dict[str, int] = {}
        out = []
        for t, dev, kind, value, data in ev:
            q = seq.get(dev, 0)
            seq[dev] = q + 1
            out.append(Reading(self.household, dev, kind, datetime.fromtimestamp(t, UTC), q,
                               value, data))
        return out

    # -- the person ------------------------------------------------------------------
    def _day(self, d: int, rng: np.random.Generator,
             ev: list[tuple[float, str, Kind, float | None, dict[str, object]]]) -> None:
        p = self.plan(d)
        m = self.midnight(d)
        wake, bed = m + p.wake * 3600.0, m + p.bed * 3600.0
        ev.append((wake, "bed-1", Kind.PRESENCE, 0.0, {"occupied": False, "place": "bed"}))
        ev.append((bed, "bed-1", Kind.PRESENCE, 1.0, {"occupied": True, "place": "bed"}))
        breaks: list[tuple[float, float]] = []
        if p.nap:
            a, b = m + p.nap[0] * 3600.0, m + p.nap[1] * 3600.0
            breaks.append((a, b))
            ev.append((a, "bed-1", Kind.PRESENCE, 1.0, {"occupied": True, "place": "bed"}))
            ev.append((b, "bed-1", Kind.PRESENCE, 0.0, {"occupied": False, "place": "bed"}))
        if p.outing:
            a, b = m + p.outing[0] * 3600.0, m + p.outing[1] * 3600.0
            breaks.append((a, b))
            for t, is_open in ((a, True), (a + 8.0, False), (b, True), (b + 8.0, False)):
                ev.append((t, "door-front", Kind.DOOR, float(is_open),
                           {"open": is_open, "exterior": True}))
            ev.append((a - 60.0, "pir-hall", Kind.MOTION, 1.0, {"motion": True}))
            ev.append((b + 30.0, "pir-hall", Kind.MOTION, 1.0, {"motion": True}))
        n = int(rng.poisson(self.active_rate * (bed - wake) / 3600.0))
        rooms = ("pir-living", "pir-kitchen", "pir-bath")
        for t in np.sort(wake + 60.0 + rng.random(n) * (bed - wake - 120.0)).tolist():
            if any(a - 120.0 <= t < b + 120.0 for a, b in breaks):
                continue
            ev.append((t, rooms[int(rng.integers(3))], Kind.MOTION, 1.0, {"motion": True}))
        for h in np.arange(p.wake + 0.5, p.bed - 0.5, 2.0).tolist():
            t = m + h * 3600.0 + float(rng.uniform(-600, 600))
            if any(a - 120.0 <= x < b + 120.0 for a, b in breaks for x in (t, t + 900.0)):
                continue
            ev.append((t, "contact-fridge", Kind.CONTACT, 1.0, {"open": True,
                                                                "target": "fridge"}))
            ev.append((t + 20.0, "contact-fridge", Kind.CONTACT, 0.0, {"open": False,
                                                                       "target": "fridge"}))
            ev.append((t + 900.0, "water-bath", Kind.WATER, 6.0, {"event": "flush"}))
        # turning over in bed now and then
        night_end = self.midnight(d + 1) + self.plan(d + 1).wake * 3600.0
        k = int(rng.poisson((night_end - bed) / 3600.0))
        for t in (bed + 600.0 + rng.random(k) * max(night_end - bed - 1200.0, 0.0)).tolist():
            ev.append((t, "pir-bedroom", Kind.MOTION, 1.0, {"motion": True}))

    # -- what goes on without the person ---------------------------------------------
    def _background(self, rng: np.random.Generator,
                    ev: list[tuple[float, str, Kind, float | None, dict[str, object]]]) -> None:
        t0, t1 = self.midnight(0), self.midnight(self.days)
        for t in np.arange(t0 + 37.0, t1, 600.0).tolist():
            ev.append((t, "gw-1", Kind.STATUS, None, {"online": True, "role": "gateway"}))
            ev.append((t + 5.0, "env-1", Kind.ENV, self.temp_c, {"temp_c": self.temp_c}))
        for t in np.arange(t0 + 11.0, t1, 6 * 3600.0).tolist():
            for dev in ("pir-living", "door-front", "contact-fridge", "bed-1"):
                ev.append((t, dev, Kind.STATUS, self.battery,
                           {"online": True, "role": "device", "battery_pct": self.battery}))
        for t in np.arange(t0 + 20.0, t1, 60.0).tolist():
            w = 50.0 + (100.0 if (t // 1500.0) % 3 == 0 else 0.0)
            if any(a <= t < b for a, b in self._kettles):
                w += 1800.0
            ev.append((t, "plug-main", Kind.POWER, w, {"w": w}))
        if self.spurious_per_h > 0:
            n = int(rng.poisson(self.spurious_per_h * (t1 - t0) / 3600.0))
            for t in (t0 + rng.random(n) * (t1 - t0)).tolist():
                ev.append((t, "pir-living", Kind.MOTION, 1.0, {"motion": True}))
        if self.stuck is not None:
            dev, since = self.stuck
            for t in np.arange(since, t1, 30.0).tolist():
                ev.append((t, dev, Kind.MOTION, 1.0, {"motion": True}))

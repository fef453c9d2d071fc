"""Device models: what each sensor of a home reports, given what the person does.

* PIR (`motion`): movements are a Poisson process per activity (cooking: about two a minute;
  watching TV: one every few minutes; sleeping: turning over now and then) plus one on entering
  and on leaving a room. The sensor reports `motion: true` on the first movement, then at most
  once per blind period (30 or 60 s) while movement goes on, and `motion: false` a little after
  the last movement (blind + 30 s). Spot PIRs see only some activities; doorway PIRs a share.
* door / contact / water / health / button: the model's happenings, one message each.
* presence (bed, seat): occupied while sleeping or napping / sitting for TV or meals.
* appliance plugs: on/off as the loads switch (auto-off as background).
* power meter, env: see simulators.power and simulators.climate.
* status: the gateway every 10 minutes (role gateway, uptime); battery devices every 6 hours
  with a slowly draining battery; a flat battery means silence from that device.
"""

from __future__ import annotations

import math

import numpy as np

from simulators.climate import Climate
from simulators.core import Act, Cause, Place
from simulators.faults import FaultPlan
from simulators.home import Home
from simulators.plan import TARGETS, Plan, What
from simulators.power import PowerMeter
from simulators.wire import Cols, Events, Op, concat

P, BG, FAULT = int(Cause.PERSON), int(Cause.BACKGROUND), int(Cause.FAULT)

#: movements per minute by activity (before the persona's and the day's activity factor)
RATE = np.zeros(len(Act))
for _act, _rate in {
    Act.SLEEP: 0.015, Act.NAP: 0.03, Act.TOILET: 2.0, Act.WASH: 3.0, Act.SHOWER: 3.0,
    Act.COOK: 2.5, Act.EAT: 0.4, Act.TV: 0.2, Act.REST: 0.12, Act.CHORES: 1.6,
    Act.DOORWAY: 2.5, Act.DOWN_MOVING: 0.3,
}.items():
    RATE[_act] = _rate
_NO_ARRIVAL = np.zeros(len(Act), dtype=bool)
_NO_ARRIVAL[[Act.OUT, Act.DOWN]] = True
_NO_DEPART = _NO_ARRIVAL.copy()
_NO_DEPART[Act.DOWN_MOVING] = True
_BED_ACTS = frozenset({Act.SLEEP, Act.NAP})
_SEAT_ACTS = frozenset({Act.TV, Act.EAT, Act.REST})
_KEEP = frozenset({Act.DOWN, Act.DOWN_MOVING})
#: activities that keep someone moving about a room (a doorway PIR catches some of it)
_BUSY = np.array([Act.COOK, Act.CHORES, Act.DOORWAY, Act.WASH, Act.TOILET, Act.SHOWER])
STATUS_EVERY_S = 600.0
BATTERY_EVERY_S = 6 * 3600.0


class DeviceBank:
    """All devices of one home, with the state they carry from one window to the next."""

    def __init__(self, home: Home, rng: np.random.Generator, start: float, climate: Climate,
                 faults: FaultPlan) -> None:
        self.home, self.rng, self.start = home, rng, start
        self.climate, self.faults = climate, faults
        specs = home.devices
        self.specs = specs
        self.index = {d.id: i for i, d in enumerate(specs)}
        rooms = list(home.plan.rooms)
        self.place_room = np.array([rooms.index(r) if r else -1 for r in home.plan.place_room])
        self.pirs: list[tuple[int, int, tuple[int, ...], float, float, float, bool]] = []
        for i, d in enumerate(specs):
            if d.kind == "motion":
                blind = float(rng.choice([30.0, 60.0]))
                self.pirs.append((i, rooms.index(d.room) if d.room in rooms else -2, d.acts,
                                  d.coverage, blind, blind + 30.0, d.doorway))
        #: per PIR: [occupied, last report, last movement, cause of last movement]
        self.pir_state = [[False, -1e18, -1e18, P] for _ in self.pirs]
        self.presence = {i: (d.place == "bed") for i, d in enumerate(specs) if d.kind == "presence"}
        self.by_kind: dict[str, list[int]] = {}
        for i, d in enumerate(specs):
            self.by_kind.setdefault(d.kind, []).append(i)
        self.battery = {i: (float(rng.uniform(55, 100)), float(rng.uniform(0.04, 0.15)))
                        for i, d in enumerate(specs) if d.battery and d.kind != "status"}
        if faults.dead_battery is not None and faults.dead_battery[0] in self.index:
            i = self.index[faults.dead_battery[0]]
            b0 = float(rng.uniform(4, 10))
            self.battery[i] = (b0, b0 / max((faults.dead_battery[1] - start) / 86400.0, 0.1))
        self.battery_phase = {i: start + float(rng.uniform(0, BATTERY_EVERY_S))
                              for i in self.battery}
        self.rssi = {i: float(rng.uniform(-85, -45)) for i in self.battery}
        self.gw = self.by_kind.get("status", [-1])[0]
        self.gw_phase = start + float(rng.uniform(0, STATUS_EVERY_S))
        self.gw_boot = start - float(rng.uniform(3600, 90 * 86400))
        self.meter = PowerMeter(rng, start, home.standby_w, home.fridge_w, home.power_interval_s)
        self.pending = Cols().build()
        self.home_spans: list[tuple[float, float]] = []
        self.ac_spans: list[tuple[float, float]] = []
        self.plan: Plan | None = None
        self.eps = np.zeros((0, 4))

    # -- a new plan: discrete events are known up front ---------------------------------
    def begin(self, plan: Plan) -> None:
        self.plan = plan
        self.eps = np.array(plan.eps, dtype=np.float64).reshape(-1, 4)
        self.meter.add(plan.loads)
        cols = Cols()
        self._happenings(plan, cols)
        self._appliances(plan, cols)
        self._presence(plan, cols)
        left = self.pending.take(np.flatnonzero(self.pending.t >= plan.start))
        new = cols.build()
        both = concat([left, new])
        self.pending = both.take(np.lexsort((both.op, both.dev, both.t)))
        self.home_spans = [(s, e) for s, e, act, _ in plan.eps if act != Act.OUT]
        self.ac_spans = [x for x in self.ac_spans if x[1] > plan.start] + [
            (ld[0], ld[1]) for ld in plan.loads if ld[3] == "ac"]

    def _happenings(self, plan: Plan, cols: Cols) -> None:
        kinds = self.by_kind
        for t, what, arg, v1, v2, v3, cause in plan.haps:
            if what == What.DOOR:
                for i in kinds.get("door", ()):
                    if self.specs[i].exterior:
                        cols.add(t, i, Op.DOOR, float(arg), cause=cause)
            elif what == What.CONTACT:
                for i in kinds.get("contact", ()):
                    if self.specs[i].target == TARGETS[arg]:
                        cols.add(t, i, Op.CONTACT, v1, cause=cause)
            elif what == What.WATER:
                for i in kinds.get("water", ()):
                    if arg == 0 or self.specs[i].id != "water-toilet":
                        cols.add(t, i, Op.WATER, float(arg), v1, cause=cause)
            elif what == What.HEALTH:
                metrics = "bp" if arg == 0 else "oximeter"
                for i in kinds.get("health", ()):
                    if self.specs[i].metrics == metrics:
                        cols.add(t, i, Op.BP if arg == 0 else Op.OXI, v1, v2, v3, cause=cause)
            elif what == What.BUTTON:
                for i in kinds.get("button", ()):
                    cols.add(t, i, Op.BUTTON, float(arg), cause=cause)

    def _appliances(self, plan: Plan, cols: Cols) -> None:
        for i in self.by_kind.get("appliance", ()):
            name = self.specs[i].appliance
            for on, off, _w, ld_name, c_on, c_off, opens, closes in plan.loads:
                if ld_name != name:
                    continue
                if opens:
                    cols.add(on + 1.0, i, Op.APPLIANCE, 1.0, cause=c_on)
                if closes and math.isfinite(off):
                    cols.add(off + 1.0, i, Op.APPLIANCE, 0.0, cause=c_off)

    def _presence(self, plan: Plan, cols: Cols) -> None:
        for i, occupied in self.presence.items():
            bed = self.specs[i].place == "bed"
            seat_place = Place.LIVING
            for s, _e, act, place in plan.eps:
                if act in _KEEP:
                    continue
                want = (act in _BED_ACTS) if bed else (act in _SEAT_ACTS and place == seat_place)
                if want != occupied:
                    occupied = want
                    cols.add(s + (3.0 if want else 1.0), i, Op.PRESENCE, float(want), cause=P)
            self.presence[i] = occupied

    # -- one window --------------------------------------------------------------------
    def render(self, a: float, b: float) -> Events:
        cols = Cols()
        k = int(np.searchsorted(self.pending.t, b, side="left"))
        cols.chunks.append(self.pending.take(np.arange(k)))
        self.pending = self.pending.take(np.arange(k, len(self.pending)))
        self._motion(a, b, cols)
        t, w, wh, cause = self.meter.render(a, b)
        for i in self.by_kind.get("power", ()):
            cols.extend(t, i, Op.POWER, w, wh, cause=cause)
        home = [x for x in self.home_spans if x[1] > a and x[0] < b]
        ac = [x for x in self.ac_spans if x[1] > a and x[0] < b]
        for i in self.by_kind.get("env", ()):
            et, temp, hum = self.climate.render(a, b, home, ac)
            cols.extend(et, i, Op.ENV, temp, hum)
        self._status(a, b, cols)
        ev = cols.build()
        if self.faults.dead_battery is not None and self.faults.dead_battery[0] in self.index:
            i = self.index[self.faults.dead_battery[0]]
            ev = ev.take(np.flatnonzero(~((ev.dev == i) & (ev.t >= self.faults.dead_battery[1]))))
        return ev

    def _grid(self, phase: float, every: float, a: float, b: float) -> np.ndarray:
        k0, k1 = math.ceil((a - phase) / every), math.ceil((b - phase) / every)
        return phase + every * np.arange(k0, k1, dtype=np.float64)

    def _status(self, a: float, b: float, cols: Cols) -> None:
        if self.gw >= 0:
            ts = self._grid(self.gw_phase, STATUS_EVERY_S, a, b)
            cols.extend(ts, self.gw, Op.STATUS_GW, np.round(ts - self.gw_boot))
        for i, (b0, drain) in self.battery.items():
            ts = self._grid(self.battery_phase[i], BATTERY_EVERY_S, a, b)
            if ts.shape[0] == 0:
                continue
            pct = np.maximum(b0 - drain * (ts - self.start) / 86400.0, 0.0)
            rssi = np.round(self.rssi[i] + self.rng.normal(0, 2.0, ts.shape[0]))
            for t, p, r in zip(ts.tolist(), (np.floor(pct * 2) / 2).tolist(), rssi.tolist(),
                               strict=True):
                cols.add(t, i, Op.STATUS_DEV, p, r)

    def _movements(self, a: float, b: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Movement times, room index, activity, and whether it is a passage (entering or
        leaving a room), for the person in [a, b)."""
        e = self.eps
        sel = (e[:, 1] > a) & (e[:, 0] < b)
        e = e[sel]
        if e.shape[0] == 0:
            z = np.zeros(0, dtype=np.int64)
            return np.zeros(0), z, z, np.zeros(0, dtype=bool)
        act = e[:, 2].astype(np.int64)
        room = self.place_room[e[:, 3].astype(np.int64)]
        s, t_end = np.maximum(e[:, 0], a), np.minimum(e[:, 1], b)
        activity = self.plan.activity if self.plan is not None else 1.0
        rate = RATE[act] * np.where(act == Act.DOWN_MOVING, 1.0, activity)
        n = self.rng.poisson(rate * (t_end - s) / 60.0)
        mt = np.repeat(s, n) + self.rng.random(int(n.sum())) * np.repeat(t_end - s, n)
        mroom, mact = np.repeat(room, n), np.repeat(act, n)
        nxt = np.append(act[1:], -1)
        arr = (e[:, 0] >= a) & ~_NO_ARRIVAL[act]
        dep = (e[:, 1] < b) & ~_NO_DEPART[act] & (nxt != Act.DOWN) & (nxt != Act.DOWN_MOVING)
        u = self.rng.random((2, act.shape[0]))
        at = e[arr, 0] + 1.0 + 7.0 * u[0][arr]
        dt = np.maximum(e[dep, 1] - 2.0 - 13.0 * u[1][dep], e[dep, 0])
        passage = np.concatenate((np.zeros(mt.shape[0], dtype=bool),
                                  np.ones(at.shape[0] + dt.shape[0], dtype=bool)))
        return (np.concatenate((mt, at, dt)), np.concatenate((mroom, room[arr], room[dep])),
                np.concatenate((mact, act[arr], act[dep])), passage)

    def _motion(self, a: float, b: float, cols: Cols) -> None:
        if not self.pirs:
            return
        mt, mroom, mact, passage = self._movements(a, b)
        f = self.faults
        for k, (dev, room, acts, coverage, blind, clear, doorway) in enumerate(self.pirs):
            m = mroom == room
            if acts:
                m &= np.isin(mact, acts)
            if doorway:
                seen = np.isin(mact, _BUSY) & (self.rng.random(mt.shape[0]) < coverage)
                m &= passage | seen
            elif coverage < 1.0:
                m &= self.rng.random(mt.shape[0]) < coverage
            times = mt[m]
            causes = np.full(times.shape[0], P, dtype=np.int8)
            dev_id = self.specs[dev].id
            for sid, per_h, (h0, h1) in f.spurious:
                if sid == dev_id:
                    st = self._spurious(a, b, per_h, h0, h1)
                    times = np.concatenate((times, st))
                    causes = np.concatenate((causes, np.full(st.shape[0], FAULT, np.int8)))
            if f.stuck is not None and f.stuck[0] == dev_id:
                keep = times < f.stuck[1]
                times, causes = times[keep], causes[keep]
            order = np.argsort(times, kind="stable")
            rt, rv, rc = _pir(times[order].tolist(), causes[order].tolist(), self.pir_state[k],
                              blind, clear, b)
            cols.extend(np.asarray(rt), dev, Op.MOTION, np.asarray(rv, dtype=np.float64),
                        cause=np.asarray(rc, dtype=np.int8))
            if f.stuck is not None and f.stuck[0] == dev_id:
                st = self._grid(f.stuck[1], blind, max(a, f.stuck[1]), b)
                cols.extend(st, dev, Op.MOTION, 1.0, cause=FAULT)

    def _spurious(self, a: float, b: float, per_h: float, h0: float, h1: float) -> np.ndarray:
        n = int(self.rng.poisson(per_h * (b - a) / 3600.0))
        t = np.sort(a + self.rng.random(n) * (b - a))
        cal = self.climate.cal
        hours = np.array([cal.hour(x) for x in t.tolist()])
        return t[(hours >= h0) & (hours < h1)]


def _pir(times: list[float], causes: list[int], st: list[float | bool | int], blind: float,
         clear: float, b: float) -> tuple[list[float], list[float], list[int]]:
    """The PIR state machine over sorted movement times; `st` is carried between windows."""
    occ, last_rep, last_mv, last_c = bool(st[0]), float(st[1]), float(st[2]), int(st[3])
    rt: list[float] = []
    rv: list[float] = []
    rc: list[int] = []
    for t, c in zip(times, causes, strict=True):
        if occ and t - last_mv > clear:
            rt.append(last_mv + clear)
            rv.append(0.0)
            rc.append(last_c)
            occ = False
        if not occ:
            occ, last_rep = True, t
            rt.append(t)
            rv.append(1.0)
            rc.append(c)
        elif t - last_rep >= blind:
            last_rep = t
            rt.append(t)
            rv.append(1.0)
            rc.append(c)
        last_mv, last_c = t, c
    if occ and last_mv + clear < b:
        rt.append(last_mv + clear)
        rv.append(0.0)
        rc.append(last_c)
        occ = False
    st[0], st[1], st[2], st[3] = occ, last_rep, last_mv, last_c
    return rt, rv, rc

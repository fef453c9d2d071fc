"""One household's stream: plans -> incidents -> devices -> faults -> wire messages.

Seeded from (seed, household index) only, with separate random streams for the home, the
scenario, the behaviour, the devices, the climate and the faults, so adding a device does not
change what the person does. Messages come out in publish-time order, window by window (at most
a day at a time), so a fleet of thousands of homes over months streams in little memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import repeat

import numpy as np

from anbu.contract import topic_for
from simulators.climate import Climate
from simulators.core import Act, Cause, Label, LocalCalendar, Message, Place
from simulators.devices import DeviceBank
from simulators.faults import WILL_DELAY_S, deliver, gateway_filter
from simulators.home import Home, build_home
from simulators.incidents import PERSON_INCIDENTS, Applied, apply, find_moment
from simulators.model import DayPlanner
from simulators.persona import Persona
from simulators.plan import DayMods, Plan
from simulators.scenarios import Mix, extra_devices, pick_kind, plan_scenario
from simulators.wire import WILL, Cols, Events, Op, concat, payloads

DAY = 86400.0
P = int(Cause.PERSON)


class HouseholdSim:
    def __init__(self, index: int, household: str, persona: Persona, sensors: str, seed: int,
                 start: float, end: float, mix: Mix, timezone: str = "Asia/Seoul",
                 floor_plan: str | None = None) -> None:
        ss = np.random.SeedSequence([seed, index])
        r_home, r_scen, r_model, r_dev, r_clim, r_fault = (
            np.random.default_rng(s) for s in ss.spawn(6))
        self.start, self.end = start, end
        kind = pick_kind(mix, r_scen, index)
        self.home: Home = build_home(household, persona, r_home, sensors, timezone,
                                     extra_devices(kind), floor_plan)
        self.scenario = plan_scenario(kind, mix, self.home, r_scen, start, end)
        self.r_scen, self.r_fault = r_scen, r_fault
        self.cal = LocalCalendar(timezone)
        self.climate = Climate(r_clim, self.cal, start, self.scenario.heat_waves)
        self.planner = DayPlanner(self.home, r_model, start)
        self.bank = DeviceBank(self.home, r_dev, start, self.climate, self.scenario.faults)
        specs = self.home.devices
        self.topics = [topic_for(household, d.id, d.kind) for d in specs]
        #: battery reports of a device go to its own status topic
        status_topics = [topic_for(household, d.id, "status") for d in specs]
        self._n_dev = len(specs)
        self._topic_arr = np.array(self.topics + status_topics, dtype=object)
        self.seq = np.zeros(len(specs), dtype=np.int64)
        self.labels: list[Label] = list(self.scenario.labels)
        self.applied: Applied | None = None
        #: bathroom PIRs: the only devices a fallen person may still trigger
        self._bath_pirs = np.array([i for i, d in enumerate(specs) if d.kind == "motion"
                                    and d.room == self.home.plan.place_room[Place.BATHROOM]],
                                   dtype=np.int32)
        self.done = False

    @property
    def household(self) -> str:
        return self.home.household

    def _mods(self, d: date) -> DayMods:
        return self.scenario.mods(d, self.cal, self.climate.day_stats(d))

    def _next_plan(self) -> Plan:
        plan = self.planner.next_plan(self._mods)
        sc = self.scenario
        if sc.kind in PERSON_INCIDENTS and sc.incident_at is not None \
                and sc.incident_at < plan.end and self.applied is None:
            t0 = find_moment(plan, sc.kind, max(sc.incident_at, plan.start), self.r_scen)
            if t0 is None or t0 >= self.end:
                sc.incident_at = plan.end
            else:
                self.applied = apply(plan, sc.kind, t0, self.end, self.r_scen)
                self.labels.append(Label(self.household, sc.kind, self.applied.start, None))
        if sc.long_outing is not None and sc.away_offered:
            a, b = sc.long_outing
            sc.away_offered = False
            for s, e, act, _ in plan.eps:
                if act == Act.OUT and abs(e - b) < 1.0:
                    self.labels.append(Label(self.household, "long_outing", round(s, 3), b))
                    sc.long_outing = None
                    break
            else:  # not taken (an incident, or the day ran out): try the same hour tomorrow
                sc.long_outing = (a + DAY, b + DAY) if b + DAY < self.end else None
        return plan

    def chunks(self) -> Iterator[tuple[list[Message], np.ndarray]]:
        """(messages, their publish times) in publish-time order, one window after another."""
        held: list[Message] = []
        held_t = np.zeros(0)
        while not self.done:
            plan = self._next_plan()
            self.bank.begin(plan)
            a, stop = plan.start, min(plan.end, self.end)
            if plan.end >= self.end:
                self.done = True
            while a < stop:
                b = min(stop, a + DAY)
                msgs, t = self._finish(self.bank.render(a, b), a, b)
                if held:
                    msgs, t = _merge(held, held_t, msgs, t)
                k = int(np.searchsorted(t, b, side="left")) if b < self.end else len(msgs)
                held, held_t = msgs[k:], t[k:]
                yield msgs[:k], t[:k]
                a = b

    def messages(self) -> Iterator[Message]:
        for chunk, _ in self.chunks():
            yield from chunk

    def _finish(self, ev: Events, a: float, b: float) -> tuple[list[Message], np.ndarray]:
        f = self.scenario.faults
        ap = self.applied
        if ap is not None:  # nothing the person causes gets through after the incident
            # a meter reading just after the cut may still show a step made just before it:
            # the reading itself is the meter's routine report, so it stays, as background
            late_power = (ev.op == Op.POWER) & (ev.t >= ap.cut)
            if late_power.any():
                ev.cause = np.where(late_power, np.int8(Cause.BACKGROUND), ev.cause)
            ok = (ev.cause != P) | (ev.t < ap.cut)
            if ap.allow_until is not None:
                ok |= (ev.t < ap.allow_until) & np.isin(ev.dev, self._bath_pirs)
            ev = ev.take(np.flatnonzero(ok))
        if len(ev) and ev.t[-1] >= self.end:  # events are in time order
            ev = ev.take(np.flatnonzero(ev.t < self.end))
        gw = self.bank.gw
        extra = Cols()
        if f.gateway_offline and gw >= 0:
            own = (ev.dev == gw) & ~gateway_filter(ev, f.gateway_offline)
            ev = ev.take(np.flatnonzero(~own))
            for _off_a, off_b in f.gateway_offline:
                if a <= off_b < b:
                    extra.add(off_b, gw, Op.GW_ONLINE, 0.0)
        if extra.rows:
            both = concat([ev, extra.build()])
            ev = both.take(np.lexsort((both.op, both.dev, both.t)))
        seq = self._seq(ev)
        if f.gateway_offline:
            ok = gateway_filter(ev, f.gateway_offline) | (ev.op == Op.GW_ONLINE)
            ev, seq = ev.take(np.flatnonzero(ok)), seq[ok]
        ev, seq, t_pub = deliver(ev, seq, f, self.r_fault)
        ts = ev.t.copy()
        if f.skew is not None and f.skew[0] in self.bank.index:
            dev_id, offset, s_a, s_b = f.skew
            m = (ev.dev == self.bank.index[dev_id]) & (ev.t >= s_a) & (ev.t < s_b)
            ts[m] += offset
        wills = [(wa + WILL_DELAY_S) for wa, _ in f.gateway_offline if a <= wa + WILL_DELAY_S < b]
        if f.delivery:  # delays and duplicates change the order of publication
            order = np.lexsort((ev.op, ev.dev, t_pub))
            ev, seq, t_pub, ts = ev.take(order), seq[order], t_pub[order], ts[order]
        ts_out = np.round(ts, 3)
        body = payloads(ts_out, seq, ev.op, ev.v1, ev.v2, ev.v3, ev.dev, self.home.devices)
        topics = self.topics
        names = self._topic_arr[ev.dev + self._n_dev * (ev.op == Op.STATUS_DEV)].tolist()
        t_out = ts_out if f.skew is None and not f.delivery else np.round(t_pub, 3)
        # tuple.__new__ through map builds the NamedTuples in C (twice as fast as Message(...))
        out = list(map(tuple.__new__, repeat(Message),
                       zip(t_out.tolist(), names, body, ev.cause.tolist(), strict=True)))
        if wills and gw >= 0:
            w_t = np.round(np.array(wills), 3)
            w_m = [Message(w, topics[gw], WILL, int(Cause.BACKGROUND)) for w in w_t.tolist()]
            return _merge(out, t_out, w_m, w_t)
        return out, t_out

    def _seq(self, ev: Events) -> np.ndarray:
        """Per-device sequence numbers in observation order, continuing from the last window."""
        n = len(ev)
        order = np.argsort(ev.dev, kind="stable")
        dev_sorted = ev.dev[order]
        first = np.searchsorted(dev_sorted, dev_sorted, side="left")
        seq = np.empty(n, dtype=np.int64)
        seq[order] = self.seq[dev_sorted] + (np.arange(n) - first)
        self.seq += np.bincount(ev.dev, minlength=self.seq.shape[0])
        return seq


def _merge(m1: list[Message], t1: np.ndarray, m2: list[Message], t2: np.ndarray
           ) -> tuple[list[Message], np.ndarray]:
    """Two time-ordered runs -> one (stable: ties keep the first run first)."""
    t = np.concatenate((t1, t2))
    order = np.argsort(t, kind="stable")
    both = m1 + m2
    return [both[i] for i in order.tolist()], t[order]


def make_household(index: int, persona: Persona, sensors: str, seed: int, start: float,
                   end: float, mix: Mix, timezone: str = "Asia/Seoul", prefix: str = "hh",
                   floor_plan: str | None = None) -> HouseholdSim:
    """Household `index` of a fleet, with the id `{prefix}-{index + 1:04d}` (hh-0001...)."""
    return HouseholdSim(index, f"{prefix}-{index + 1:04d}", persona, sensors, seed, start, end,
                        mix, timezone, floor_plan)

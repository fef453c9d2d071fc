"""The household behaviour model: a person's days as episodes, happenings and appliance loads.

Pure and seeded: a `DayPlanner` draws from its own numpy Generator and never reads a clock.
Each call to `DayPlanner.next_plan` returns one `Plan` (simulators.plan) from waking (or coming
home) to the next waking. The kettle, microwave and toaster switch themselves off and the rice
cooker goes to keep-warm by itself (background causes); the person switches TV, lights, AC,
electric mat, rice cooker.

Every person-caused on/off of a plan lies inside the plan, so an incident can cut a plan
without touching the ones before it (simulators.incidents).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np

from simulators.core import Act, Cause, LocalCalendar, Place
from simulators.home import Home
from simulators.persona import Meal
from simulators.plan import DayMods, Plan, What

P, BG = int(Cause.PERSON), int(Cause.BACKGROUND)
_HOME_AWAKE = frozenset({Act.TOILET, Act.WASH, Act.SHOWER, Act.COOK, Act.EAT, Act.TV,
                         Act.REST, Act.CHORES, Act.DOORWAY})
_TV_OFF = frozenset({Act.SLEEP, Act.NAP, Act.OUT, Act.DOORWAY, Act.REST})
#: watts and (auto-off) minutes of the small kitchen appliances
_SMALL = {"kettle": (1800.0, 3.5), "microwave": (1100.0, 2.5), "toaster": (850.0, 2.5)}


class DayPlanner:
    """Plans one household's days in sequence; state is where the last plan ended."""

    def __init__(self, home: Home, rng: np.random.Generator, start: float) -> None:
        self.home, self.p, self.rng = home, home.persona, rng
        self.cal = LocalCalendar(home.timezone)
        self.t = start
        self.mode = "asleep"  # at the start the person is in bed
        self.bp = (rng.normal(133, 7), rng.normal(82, 4), rng.normal(72, 5))
        self._work: dict[date, float | None] = {}

    # -- sampling helpers --------------------------------------------------------------
    def _at(self, d: date, hour: float) -> float:
        return self.cal.midnight(d) + hour * 3600.0

    def _wake(self, d: date, mods: DayMods) -> float:
        p, r = self.p, self.rng
        leave = self.work_leave(d)
        if leave is not None:  # a work day starts early whatever the persona's habit
            return leave - float(r.uniform(45, 75)) * 60.0
        h = p.wake_h + (p.weekend_shift_h if d.weekday() >= 5 else 0.0) + mods.wake_delay_h
        return self._at(d, h + r.normal(0, p.wake_sd_h))

    def work_leave(self, d: date) -> float | None:
        """When the person leaves for work on `d` (None: no work that day); drawn once."""
        if d not in self._work:
            p, r = self.p, self.rng
            work = d.weekday() < 5 and p.work_prob > 0 and r.random() < p.work_prob
            self._work[d] = self._at(d, p.work_leave_h + r.normal(0, 0.3)) if work else None
        return self._work[d]

    def next_plan(self, mods_for: Callable[[date], DayMods]) -> Plan:
        d = self.cal.date_of(self.t)
        mods = mods_for(d)
        b = _Builder(self, self.t, mods)
        if self.mode == "asleep":
            wake = max(self._wake(d, mods), self.t + 600.0)
            b.sleep_until(wake)
            b.get_up()
        elif self.mode == "returning":
            b.come_home()
        else:
            b.get_up()
        end, mode = b.day(d)
        self.t, self.mode = end, mode
        return b.finish(end)


class _Builder:
    """Appends episodes back to back from a cursor; adds happenings and loads on the way."""

    def __init__(self, planner: DayPlanner, t: float, mods: DayMods) -> None:
        self.pl, self.p, self.r, self.home = planner, planner.p, planner.rng, planner.home
        self.mods = mods
        self.plan = Plan(t, t)
        self.plan.activity = (
            self.p.activity * float(self.r.lognormal(0.0, self.p.mood_sigma)) * mods.activity
        )
        self.t = t
        self.tv_since: float | None = None
        self.tv_keep = False
        self.rice_since: float | None = None
        self.next_toilet = t + self._exp_h(self.p.toilet_every_h)

    # -- primitives --------------------------------------------------------------------
    def _exp_h(self, hours: float) -> float:
        return float(self.r.exponential(hours * 3600.0)) + 600.0

    def _logn(self, median_min: float, sigma: float) -> float:
        return 60.0 * median_min * float(self.r.lognormal(0.0, sigma))

    def ep(self, act: Act, place: Place, dur: float) -> None:
        if act in _TV_OFF and self.tv_since is not None and not self.tv_keep:
            self.switch_tv(False)
        if act == Act.TV and self.tv_since is None:
            self.switch_tv(True)
        dur = max(dur, 1.0)
        self.plan.eps.append((self.t, self.t + dur, int(act), int(place)))
        self.t += dur

    def hap(self, t: float, what: What, arg: int = 0, v1: float = 0.0, v2: float = 0.0,
            v3: float = 0.0) -> None:
        self.plan.haps.append((t, int(what), arg, v1, v2, v3, P))

    def load(self, on: float, off: float, watts: float, name: str, cause_off: int = P,
             opens: bool = True, closes: bool = True, cause_on: int = P) -> None:
        self.plan.loads.append((on, off, watts, name, cause_on, cause_off, opens, closes))

    def switch_tv(self, on: bool) -> None:
        if on:
            self.tv_since = self.t
        elif self.tv_since is not None:
            self.load(self.tv_since, self.t, 110.0, "tv")
            self.tv_since = None

    def contact(self, t: float, target: int, open_s: float) -> None:
        self.hap(t, What.CONTACT, target, 1.0)
        self.hap(t + open_s, What.CONTACT, target, 0.0)

    def small_appliance(self, name: str, t: float) -> None:
        watts, minutes = _SMALL[name]
        self.load(t, t + 60.0 * minutes * float(self.r.uniform(0.7, 1.4)), watts, name,
                  cause_off=BG)

    def close_rice(self) -> None:
        if self.rice_since is not None:
            cook_end = self.rice_since + 40 * 60.0
            if self.t > cook_end:
                self.load(cook_end, self.t, 45.0, "rice_cooker", opens=False, cause_on=BG)
                self.load(self.rice_since, cook_end, 650.0, "rice_cooker", cause_off=BG,
                          closes=False)
            else:  # switched off while still cooking
                self.load(self.rice_since, self.t, 650.0, "rice_cooker")
            self.rice_since = None

    # -- activities ----------------------------------------------------------------------
    def toilet(self, night: bool = False) -> None:
        dur = self._logn(2.5 if night else 3.0, 0.35)
        self.hap(self.t + dur - float(self.r.uniform(3, 10)), What.WATER, 0, 6.0)
        self.ep(Act.TOILET, Place.BATHROOM, dur)
        self.next_toilet = self.t + self._exp_h(self.p.toilet_every_h)

    def wash(self) -> None:
        dur = self._logn(6.0, 0.3)
        if self.r.random() < 0.4:
            self.contact(self.t + 30.0, 2, float(self.r.uniform(3, 15)))
        self.hap(self.t + dur - 20.0, What.WATER, 1, round(float(self.r.uniform(2, 8)), 1))
        self.ep(Act.WASH, Place.BATHROOM, dur)

    def shower(self) -> None:
        dur = self._logn(13.0, 0.3)
        self.hap(self.t + dur - 60.0, What.WATER, 2, round(float(self.r.uniform(35, 90)), 1))
        self.ep(Act.SHOWER, Place.BATHROOM, dur)

    def get_up(self) -> None:
        self.ep(Act.REST, Place.BEDROOM, float(self.r.uniform(60, 300)))
        self.toilet()
        self.wash()

    def snack(self) -> None:
        dur = float(self.r.uniform(180, 420))
        self.contact(self.t + 20.0, 0, float(self.r.uniform(5, 25)))
        if "kettle" in self.home.appliances and self.r.random() < 0.4:
            self.small_appliance("kettle", self.t + 40.0)
        self.ep(Act.CHORES, Place.KITCHEN, dur)

    def meal(self, m: Meal) -> None:
        r = self.r
        if r.random() < m.cook_prob * self.mods.cooking:
            dur = max(180.0, 60.0 * m.cook_min * float(r.uniform(0.7, 1.3)))
            for _ in range(int(r.integers(1, 4))):
                self.contact(self.t + float(r.uniform(10, dur - 60)), 0,
                             float(r.uniform(5, 40)))
            if r.random() < 0.6:
                self.contact(self.t + float(r.uniform(10, dur - 30)), 1, float(r.uniform(3, 20)))
            for name, prob in m.appliances:
                if name not in self.home.appliances or r.random() >= prob:
                    continue
                at = self.t + float(r.uniform(0.05, 0.5)) * dur
                if name == "rice_cooker":
                    t_now, self.t = self.t, at
                    self.close_rice()
                    self.t, self.rice_since = t_now, at
                else:
                    self.small_appliance(name, at)
        else:  # cold food: the fridge, a minute or two
            dur = float(r.uniform(60, 200))
            self.contact(self.t + 15.0, 0, float(r.uniform(5, 20)))
        self.ep(Act.COOK, Place.KITCHEN, dur)
        eat_place = m.eat_place if self.home.plan.place_room[m.eat_place] else Place.KITCHEN
        self.ep(Act.EAT, eat_place, 60.0 * m.eat_min * float(r.uniform(0.7, 1.3)))
        if self.p.uses_pillbox and m.name in ("breakfast", "dinner"):
            self.contact(self.t + 20.0, 3, float(r.uniform(3, 10)))
        checks = 0 if self.mods.abnormal_vitals else self.p.health_checks
        if (m.name == "breakfast" and checks) or (m.name == "dinner" and checks >= 2):
            self.health()

    def health(self) -> None:
        r, ab = self.r, self.mods.abnormal_vitals
        sys_, dia, pulse = self.pl.bp
        if ab:
            v = (r.uniform(178, 205), r.uniform(100, 120), r.uniform(112, 135))
        else:
            v = (sys_ + r.normal(0, 7), dia + r.normal(0, 5), pulse + r.normal(0, 4))
        t = self.t + 60.0
        self.hap(t, What.HEALTH, 0, float(round(v[0])), float(round(v[1])), float(round(v[2])))
        if self.p.uses_oximeter or ab:
            spo2 = r.uniform(85, 89) if ab else min(100.0, r.normal(97, 1))
            self.hap(t + 120.0, What.HEALTH, 1, float(round(spo2)), float(round(v[2])))
        self.ep(Act.REST, Place.LIVING, 240.0)

    def leave(self) -> None:
        self.close_rice()
        self.ep(Act.DOORWAY, Place.HALL, float(self.r.uniform(40, 150)))
        self.hap(self.t - 2.0, What.DOOR, 1)
        self.hap(self.t + float(self.r.uniform(4, 12)), What.DOOR, 0)

    def come_home(self) -> None:
        self.hap(self.t, What.DOOR, 1)
        self.hap(self.t + float(self.r.uniform(4, 12)), What.DOOR, 0)
        self.ep(Act.DOORWAY, Place.HALL, float(self.r.uniform(40, 120)))

    def outing(self, until: float) -> None:
        self.leave()
        self.ep(Act.OUT, Place.AWAY, until - self.t)
        self.come_home()

    def leisure(self, until: float) -> None:
        p, r = self.p, self.r
        while self.t < until - 120.0:
            if self.t >= self.next_toilet:
                self.toilet()
                continue
            sed = self.mods.sedentary
            if r.random() < p.snack_prob * 0.3 / sed:
                self.snack()
                continue
            h = self.pl.cal.hour(self.t)
            w_tv = p.tv_share * (1.6 if h >= 18 or h < 3 else 1.0)
            w_rest = p.rest_share * (1.5 if 13 <= h <= 16 else 1.0) * sed
            w_chores = p.chores_share * (1.5 if h < 12 else 0.7) / sed
            u = float(r.random()) * (w_tv + w_rest + w_chores)
            k = 0 if u < w_tv else 1 if u < w_tv + w_rest else 2
            mean = p.leisure_min * sed * (1.0 if k < 2 else 0.4)  # chores come in short bouts
            dur = min(60.0 * min(float(r.exponential(mean)), 3 * mean) + 180.0, until - self.t,
                      max(self.next_toilet - self.t, 120.0))
            if k == 0:
                self.ep(Act.TV, Place.LIVING, dur)
            elif k == 1:
                self.ep(Act.REST, Place.BEDROOM, dur)
            else:
                u = float(r.random())
                place = Place.KITCHEN if u < 0.4 else Place.LIVING if u < 0.8 else Place.BATHROOM
                self.ep(Act.CHORES, place, dur)
        if until > self.t:
            self.ep(Act.REST if self.tv_since is None else Act.TV, Place.LIVING, until - self.t)

    def sleep_until(self, wake: float) -> None:
        r = self.r
        n = int(r.poisson(self.p.night_toilet_mean))
        lo, hi = self.t + 1800.0, wake - 1200.0
        visits = sorted(float(x) for x in r.uniform(lo, hi, n)) if hi > lo else []
        for v in visits:
            if v <= self.t + 600.0:
                continue
            self.ep(Act.SLEEP, Place.BEDROOM, v - self.t)
            self.toilet(night=True)
        self.ep(Act.SLEEP, Place.BEDROOM, max(wake - self.t, 600.0))

    # -- the day -------------------------------------------------------------------------
    def day(self, d: date) -> tuple[float, str]:
        """Awake part of the day `d`, then the night. Returns (end, mode of the next plan)."""
        p, r, pl, mods = self.p, self.r, self.pl, self.mods
        weekend = d.weekday() >= 5
        bed = pl._at(d, p.bed_h + r.normal(0, p.bed_sd_h) + 0.5 * mods.wake_delay_h
                     + (p.weekend_shift_h if weekend else 0.0))
        nxt = d + timedelta(days=1)
        leave_next = pl.work_leave(nxt)
        if leave_next is not None:  # early to bed before a work day
            bed = min(bed, leave_next - 3600.0 * float(r.uniform(6.5, 7.5)))
        bed = max(bed, self.t + 4 * 3600.0)
        items: list[tuple[float, str, object]] = []
        outs: list[tuple[float, float]] = []
        if mods.away is not None:
            outs.append(mods.away)
        elif (leave := pl.work_leave(d)) is not None:
            outs.append((leave, leave + 3600.0 * (p.work_hours + r.normal(0, 0.8))))
        rate = (p.outings_weekend if weekend else p.outings_weekday) * mods.outings
        for _ in range(int(r.poisson(rate))):
            wins = p.outing_windows
            wts = np.array([w for _, _, w in wins])
            a, b, _ = wins[int(r.choice(len(wins), p=wts / wts.sum()))]
            s = pl._at(d, float(r.uniform(a, b)))
            outs.append((s, s + self._logn(p.outing_median_min, p.outing_sigma)))
        overnight = mods.away is None and r.random() < p.overnight_away_prob
        if overnight:
            s = bed - 3600.0 * float(r.uniform(1, 4))
            outs.append((s, pl._at(d + timedelta(days=1), float(r.uniform(9, 14)))))
        for s, e in outs:
            items.append((s, "away" if (s, e) == mods.away else "out", e))
        for m in p.meals:
            t = pl._at(d, m.hour + r.normal(0, m.sd_h) + 0.5 * mods.wake_delay_h)
            if r.random() < m.prob and not any(s - 600 < t < e for s, e in outs):
                items.append((t, "meal", m))
        if r.random() < min(1.0, p.nap_prob + mods.nap_extra):
            items.append((pl._at(d, p.nap_h + r.normal(0, 0.5)), "nap", None))
        if mods.abnormal_vitals:  # the monitor is used twice that day, meals or not
            items += [(self.t + 3600.0, "health", None), (pl._at(d, 19.5), "health", None)]
        shower = r.random() < p.shower_prob
        if shower and not p.shower_evening:
            items.append((self.t + 60.0, "shower", None))
        items.sort(key=lambda x: x[0])
        for when, kind, arg in items:
            if when > self.t:
                self.leisure(min(when, bed - 1800.0))
            if self.t > bed - 1800.0 and kind not in ("out", "away"):
                break
            if kind == "away":  # a planned long outing happens, even if it starts late
                end = float(arg)  # type: ignore[arg-type]
                if end > self.t + 3600.0:
                    if end > bed + 3600.0:
                        self.outing_until(end)
                        return end, "returning"
                    self.outing(end)
            elif kind == "out":
                end = float(arg)  # type: ignore[arg-type]
                if self.t > when + 3600.0 or end <= self.t + 600.0:
                    continue
                if end > bed + 3600.0:  # away overnight or for days: the plan ends on return
                    self.outing_until(end)
                    return end, "returning"
                self.outing(end)
            elif self.t > when + 5400.0:
                continue
            elif kind == "meal":
                self.meal(arg)  # type: ignore[arg-type]
            elif kind == "nap":
                self.ep(Act.NAP, Place.BEDROOM, self._logn(p.nap_min, 0.35))
            elif kind == "shower":
                self.shower()
            elif kind == "health":
                self.health()
        self.leisure(max(bed - 900.0, self.t))
        self.close_rice()
        if shower and p.shower_evening:
            self.shower()
        self.toilet()
        self.wash()
        self.tv_keep = self.tv_since is not None and r.random() < p.tv_asleep_prob
        bed_t = self.t
        wake = max(self.pl._wake(nxt, self.mods), bed_t + 4.5 * 3600.0)
        if wake < bed_t + 5 * 3600.0:
            wake += float(r.uniform(0, 2 * 3600.0))
        self.sleep_until(wake)
        if "electric_mat" in self.home.appliances and mods.outdoor_mean_c < 8.0:
            self.load(bed_t, self.t, 120.0, "electric_mat")
        return self.t, "wake"

    def outing_until(self, end: float) -> None:
        self.leave()
        self.ep(Act.OUT, Place.AWAY, end - self.t)

    def finish(self, end: float) -> Plan:
        """Close what is still on at the end of the plan; derive lights and AC from episodes."""
        self.t = end
        self.tv_keep = False
        self.switch_tv(False)
        self.close_rice()
        self.plan.end = end
        self._lights_and_ac()
        self.plan.loads.sort(key=lambda x: x[0])
        self.plan.haps.sort(key=lambda x: x[0])
        return self.plan

    def _lights_and_ac(self) -> None:
        spans: list[list[float]] = []
        for s, e, act, _ in self.plan.eps:
            if act in _HOME_AWAKE:
                if spans and s - spans[-1][1] < 1.0:
                    spans[-1][1] = e
                else:
                    spans.append([s, e])
        cal, mods = self.pl.cal, self.mods
        doy = cal.date_of(self.plan.start).timetuple().tm_yday
        c = math.cos(2 * math.pi * (doy - 172) / 365.0)
        dusk, dawn = 18.6 + 1.3 * c, 6.4 - 1.2 * c
        thr = self.p.ac_threshold_c
        cool = ("ac" in self.home.appliances and thr is not None and not mods.no_cooling
                and mods.outdoor_max_c > thr)
        for s, e in spans:
            day0 = cal.midnight(cal.date_of(s))
            for lo_h, hi_h in ((-24 + dusk, dawn), (dusk, 24 + dawn)):
                lo, hi = max(s, day0 + lo_h * 3600.0), min(e, day0 + hi_h * 3600.0)
                if hi - lo > 60.0:
                    self.load(lo, hi, 30.0, "lights")
            if cool:
                lo = max(s, day0 + 12 * 3600.0)
                if e - lo > 600.0:
                    self.load(lo, e, 800.0, "ac")

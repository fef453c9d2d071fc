"""The baselines anbu is measured against, with the engine's interface (observe / evaluate /
export / adopt / remove), so the harness runs them side by side on one stream.

* `FixedTimer(hours)` — the Korean district rule: no motion for N hours (8 h 주의, 12 h 경보,
  24 h 위험 in the field; here each N is its own detector raising an escalated alarm at N).
  Any motion report resets it, as in the deployed systems: no discount for repeats, no notion
  of away or of a silent gateway. `any_sign=True` counts every person-caused kind instead of
  motion only (a stronger variant, reported as `fixed-any:Nh`).
* `SmartPlug` — the Seoul smart-plug programme: no change in power use (no appliance switched
  on: a meter step up of 250 W or more) for 24 h, or the last 50 h below 50 % of the home's
  usual 50 h, raises an escalated alarm.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from anbu.contract import PERSON_KINDS
from anbu.domain import Kind, Reading, Severity
from detectors.findings import Finding, FindingKind, explain

NAN = math.nan
STEP_W = 250.0
HOUR = 3600.0


@dataclass(slots=True)
class _Timer:
    last: float = NAN
    created: float = NAN
    raised: bool = False


class FixedTimer:
    def __init__(self, hours: float, any_sign: bool = False) -> None:
        self.hours = hours
        self.any_sign = any_sign
        self.name = f"fixed{'-any' if any_sign else ''}:{hours:g}h"
        self.state: dict[str, _Timer] = {}

    def add_household(self, household_id: str, timezone: str | None = None) -> None:
        self.state.setdefault(household_id, _Timer())

    def observe(self, readings: Iterable[Reading]) -> None:
        for r in readings:
            st = self.state.get(r.household_id)
            if st is None:
                st = self.state[r.household_id] = _Timer()
            t = r.time.timestamp()
            if math.isnan(st.created):
                st.created = t
            if self.any_sign:
                alive = r.kind in PERSON_KINDS and not (
                    r.kind == Kind.MOTION and r.value != 1.0)
            else:
                alive = r.kind == Kind.MOTION and r.value == 1.0
            if alive and (math.isnan(st.last) or t > st.last):
                st.last = t
                st.raised = False

    def evaluate(self, now: datetime) -> list[Finding]:
        t = now.timestamp()
        out = []
        limit = self.hours * HOUR
        for hid, st in self.state.items():
            since = st.last if not math.isnan(st.last) else st.created
            if st.raised or math.isnan(since) or t - since < limit:
                continue
            st.raised = True
            text = explain("inactivity.day", silence=t - since, since=f"{since:.0f}")
            out.append(Finding(hid, FindingKind.INACTIVITY.value, Severity.ALARM, now, text,
                               {"rule": self.name, "silence_s": round(t - since)}))
        return out

    def export(self, household_id: str) -> _Timer:
        return replace(self.state[household_id])

    def adopt(self, state: object, household_id: str) -> None:
        assert isinstance(state, _Timer)
        self.state[household_id] = replace(state)

    def remove(self, household_id: str) -> None:
        self.state.pop(household_id, None)


@dataclass(slots=True)
class _Plug:
    w: float = NAN
    t: float = NAN
    first: float = NAN
    step: float = NAN
    #: Wh per hour over the last 50 h (ring), current hour number
    hours: list[float] | None = None
    hour: int = -1
    usual_sum: float = 0.0
    usual_n: int = 0
    raised: bool = False


class SmartPlug:
    name = "smartplug"

    def __init__(self, flat_hours: float = 24.0, window_h: int = 50, share: float = 0.5
                 ) -> None:
        self.flat_hours, self.window_h, self.share = flat_hours, window_h, share
        self.state: dict[str, _Plug] = {}

    def add_household(self, household_id: str, timezone: str | None = None) -> None:
        self.state.setdefault(household_id, _Plug(hours=[0.0] * self.window_h))

    def observe(self, readings: Iterable[Reading]) -> None:
        for r in readings:
            if r.kind != Kind.POWER:
                continue
            w = r.data.get("w")
            if not isinstance(w, int | float):
                continue
            st = self.state.get(r.household_id)
            if st is None:
                self.add_household(r.household_id)
                st = self.state[r.household_id]
            self._power(st, r.time.timestamp(), float(w))

    def _power(self, st: _Plug, t: float, w: float) -> None:
        assert st.hours is not None
        if math.isnan(st.first):
            st.first = t
        h = int(t // HOUR)
        if h > st.hour:
            if st.hour >= 0 and t - st.first >= self.window_h * HOUR:
                st.usual_sum += sum(st.hours)  # a rolling 50 h total, sampled every hour
                st.usual_n += 1
            for k in range(max(st.hour + 1, h - self.window_h + 1), h + 1):
                st.hours[k % self.window_h] = 0.0
            st.hour = h
        if not math.isnan(st.w) and 0 < t - st.t <= 900.0:
            st.hours[h % self.window_h] += st.w * (t - st.t) / HOUR
            # a step between consecutive readings only (as the engine: see signs.py)
            if w - st.w >= STEP_W and t - st.t <= 90.0:
                st.step = t
                st.raised = False
        if math.isnan(st.t) or t >= st.t:
            st.w, st.t = w, t

    def evaluate(self, now: datetime) -> list[Finding]:
        t = now.timestamp()
        out = []
        for hid, st in self.state.items():
            if st.raised or math.isnan(st.first) or st.hours is None:
                continue
            since = st.step if not math.isnan(st.step) else st.first
            flat = t - since >= self.flat_hours * HOUR
            usual = st.usual_sum / st.usual_n if st.usual_n >= 24 * 4 else 0.0
            low = usual > 0 and sum(st.hours) < self.share * usual
            if flat or low:
                st.raised = True
                rule = "flat" if flat else "low"
                text = explain("power_anomaly.flat", silence=t - since, since=f"{since:.0f}")
                out.append(Finding(hid, FindingKind.INACTIVITY.value, Severity.ALARM, now,
                                   text, {"rule": f"smartplug.{rule}"}))
        return out

    def export(self, household_id: str) -> _Plug:
        st = self.state[household_id]
        return replace(st, hours=list(st.hours or []))

    def adopt(self, state: object, household_id: str) -> None:
        assert isinstance(state, _Plug)
        self.state[household_id] = replace(state, hours=list(state.hours or []))

    def remove(self, household_id: str) -> None:
        self.state.pop(household_id, None)

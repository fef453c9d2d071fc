"""`anbu eval`: run detectors over a recording in virtual time, with no broker or database.

One causal pass over the stream. Each message is decoded with `ingest.decode` (exactly what
production consumes) and observed by every detector; the clock ticks every `tick_s` and each
detector is evaluated. Escalated findings on the unmodified stream, after the warm-up and
outside labelled incidents, are false alarms.

Injected incidents (`inject`): moments drawn at random, stratified over 08-20, 20-24 and 00-08
local time, after the warm-up and at least 24 h before the end. At each moment every
detector's state for that household is *forked* (exported and adopted under a new id), and the
fork is fed the same stream without anything the person caused from then on (background,
faults and heartbeats go on; `simulators.incidents.is_person`). The fork runs until its first
escalated finding about the person or for 24 h. Nothing after the moment reaches the fork
before its time, so the test is causal; the main run goes on unmodified.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np

from anbu.contract import parse_topic
from anbu.domain import Reading
from detectors.baselines import FixedTimer, SmartPlug
from detectors.engine import Engine
from detectors.findings import Finding
from detectors.settings import DetectorSettings
from detectors.trend import DailyActivity
from ingest.decode import decode
from simulators.core import Label, Message
from simulators.incidents import PERSON_INCIDENTS, is_person, strip_person_after

DAY = 86400.0
HORIZON_S = 24 * 3600.0
BUCKETS = ("day", "evening", "night")
DEFAULT_DETECTORS = ("anbu", "fixed:8h", "fixed:12h", "fixed:24h", "smartplug")


class Detector(Protocol):
    def add_household(self, household_id: str, timezone: str | None = None) -> Any: ...
    def observe(self, readings: Iterable[Reading]) -> None: ...
    def evaluate(self, now: datetime) -> list[Finding]: ...
    def export(self, household_id: str) -> Any: ...
    def adopt(self, state: Any, household_id: str) -> Any: ...
    def remove(self, household_id: str) -> None: ...


def make_detector(spec: str, settings: DetectorSettings) -> Detector:
    """`anbu`, `fixed:8h` (no motion), `fixed-any:8h` (no person sign), `smartplug`."""
    if spec == "anbu":
        return Engine(settings)
    if spec == "smartplug":
        return SmartPlug()
    name, _, arg = spec.partition(":")
    if name in ("fixed", "fixed-any") and arg.endswith("h"):
        try:
            hours = float(arg[:-1])
        except ValueError:
            hours = -1.0
        if hours > 0:
            return FixedTimer(hours, any_sign=name == "fixed-any")
    raise ValueError(f"unknown detector {spec!r}: anbu | fixed:Nh | fixed-any:Nh | smartplug")


def bucket_of(hour: float) -> str:
    return "day" if 8.0 <= hour < 20.0 else ("evening" if hour >= 20.0 else "night")


@dataclass(slots=True)
class Incident:
    k: int
    household: str
    t0: float
    bucket: str
    source: str = "injected"
    #: first escalated (and first caution) finding time, per detector
    detected: dict[str, float | None] = field(default_factory=dict)
    first_caution: dict[str, float | None] = field(default_factory=dict)
    #: kind of the first escalated finding, per detector (which rule found it)
    detected_kind: dict[str, str] = field(default_factory=dict)
    #: ground truth near t0 (person-caused messages): was the person out?
    last_door: bool = False
    next_door: bool | None = None
    #: when the person's next message came on the unmodified stream (while out: the return
    #: that, in the test, never happens)
    next_t: float | None = None

    @property
    def while_out(self) -> bool:
        """The person's last and next messages around the moment were the exterior door."""
        return bool(self.last_door and self.next_door)


@dataclass(slots=True)
class Alert:
    detector: str
    household: str
    kind: str
    severity: str
    at: float


#: household properties a recording's header may give, by which `anbu eval` splits its scores
GROUP_KEYS = ("persona", "sensors")


@dataclass(slots=True)
class Outcome:
    detectors: list[str]
    households: list[str]
    start: float
    end: float
    warmup_s: float
    alerts: list[Alert]
    incidents: list[Incident]
    labels: list[Label]
    usual_wake_s: dict[str, float]
    timezones: dict[str, str]
    messages: int = 0
    #: signs of life per household and local day on the unmodified stream (weekly trend)
    activity: DailyActivity | None = None
    #: what the recording says of each household (`persona`, `sensors`: simulated homes)
    groups: dict[str, dict[str, str]] = field(default_factory=dict)


def plan_incidents(households: list[tuple[str, str]], start: float, end: float,
                   warmup_s: float, n: int, seed: int) -> list[Incident]:
    """n moments, buckets in turn (day, evening, night), homes and dates drawn at random."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x1C1D]))
    lo, hi = start + warmup_s, end - HORIZON_S
    if n <= 0 or hi <= lo or not households:
        return []
    out: list[Incident] = []
    for k in range(n):
        b = BUCKETS[k % 3]
        hid, tz = households[int(rng.integers(len(households)))]
        zone = ZoneInfo(tz)
        for _ in range(1000):
            t = lo + float(rng.random()) * (hi - lo)
            d = datetime.fromtimestamp(t, zone).date()
            mid = datetime(d.year, d.month, d.day, tzinfo=zone).timestamp()
            a, w = {"day": (8.0, 12.0), "evening": (20.0, 4.0), "night": (0.0, 8.0)}[b]
            t = round(mid + 3600.0 * (a + w * float(rng.random())), 3)
            if lo <= t <= hi:
                break
        out.append(Incident(k, hid, t, b))
    return sorted(out, key=lambda x: x.t0)


class Harness:
    def __init__(self, header: dict[str, Any], specs: list[str], settings: DetectorSettings,
                 tick_s: float = 120.0) -> None:
        self.specs = specs
        self.tick_s = tick_s
        self.timezones = {h["id"]: h.get("timezone") or "Asia/Seoul"
                          for h in header.get("households", [])}
        self.mains = {s: make_detector(s, settings) for s in specs}
        self.forks = {s: make_detector(s, settings) for s in specs}
        for det in self.mains.values():
            for hid, tz in self.timezones.items():
                det.add_household(hid, tz)
        self.alerts: list[Alert] = []
        #: live forks: fork id -> incident; household -> fork ids
        self.live: dict[str, Incident] = {}
        self.by_home: dict[str, list[str]] = {}
        self.person_times: dict[str, list[float]] = {h: [] for h in self.timezones}
        self.last_person_door: dict[str, bool] = {}
        self.awaiting_next: dict[str, list[Incident]] = {}
        self.activity = DailyActivity(self.timezones, settings.refractory_s)

    def run(self, messages: Iterable[Message], incidents: list[Incident]) -> int:
        queue = list(incidents)
        next_tick = math.nan
        n = 0
        for m in messages:
            if math.isnan(next_tick):
                next_tick = (m.t // self.tick_s + 1) * self.tick_s
            while True:  # ticks and forks due before this message, in time order
                t_fork = queue[0].t0 if queue else math.inf
                if next_tick <= m.t and next_tick <= t_fork:
                    self._tick(next_tick)
                    next_tick += self.tick_s
                elif t_fork <= m.t:
                    self._fork(queue.pop(0))
                else:
                    break
            self._message(m)
            n += 1
        for inc in queue:  # moments after the last message: nothing to fork
            inc.detected = dict.fromkeys(self.specs)
        if not math.isnan(next_tick):
            end = next_tick + HORIZON_S
            while self.live and next_tick <= end:
                self._tick(next_tick)
                next_tick += self.tick_s
        for fid in list(self.live):
            self._end_fork(fid)
        return n

    def _message(self, m: Message) -> None:
        topic = parse_topic(m.topic)
        hid = topic.household_id if topic else ""
        readings = decode(m.topic, m.payload, datetime.fromtimestamp(m.t, UTC)).readings
        for det in self.mains.values():
            det.observe(readings)
        self.activity.observe(readings)
        person = is_person(m)
        if person and hid in self.person_times and b'"motion":false' not in m.payload:
            self.person_times[hid].append(m.t)
            door = topic is not None and topic.kind == "door" and b'"exterior":true' in m.payload
            self.last_person_door[hid] = door
            for inc in self.awaiting_next.pop(hid, []):
                inc.next_door = door
                inc.next_t = m.t
        forks = self.by_home.get(hid)
        if not forks:
            return
        if person:
            kept = list(strip_person_after([m], hid, m.t))
            if not kept:
                return
            readings = [r for k in kept for r in decode(k.topic, k.payload,
                                                         datetime.fromtimestamp(k.t, UTC)).readings]
        for fid in forks:
            renamed = [replace(r, household_id=fid) for r in readings]
            for det in self.forks.values():
                det.observe(renamed)

    def _tick(self, t: float) -> None:
        now = datetime.fromtimestamp(t, UTC)
        for spec, det in self.mains.items():
            for f in det.evaluate(now):
                self.alerts.append(Alert(spec, f.household_id, f.kind, f.severity.label, t))
        if not self.live:
            return
        for spec, det in self.forks.items():
            for f in det.evaluate(now):
                inc = self.live.get(f.household_id)
                if inc is None or f.kind.startswith("device.") or inc.detected.get(spec):
                    continue
                if f.severity.escalated:
                    inc.detected[spec] = t
                    inc.detected_kind[spec] = f.kind
                elif inc.first_caution.get(spec) is None:
                    inc.first_caution[spec] = t
        for fid, inc in list(self.live.items()):
            if t >= inc.t0 + HORIZON_S or all(inc.detected.get(s) for s in self.specs):
                self._end_fork(fid)

    def _fork(self, inc: Incident) -> None:
        fid = f"{inc.household}~{inc.k}"
        for spec in self.specs:
            state = self.mains[spec].export(inc.household)
            self.forks[spec].adopt(state, fid)
            inc.detected.setdefault(spec, None)
        inc.last_door = self.last_person_door.get(inc.household, False)
        self.awaiting_next.setdefault(inc.household, []).append(inc)
        self.live[fid] = inc
        self.by_home.setdefault(inc.household, []).append(fid)

    def _end_fork(self, fid: str) -> None:
        inc = self.live.pop(fid)
        self.by_home[inc.household].remove(fid)
        for det in self.forks.values():
            det.remove(fid)


def incident_line(inc: Incident, specs: list[str], wake_ref: float | None = None
                  ) -> dict[str, Any]:
    """One incident as a JSON-ready dict (`anbu eval --incidents-out`): for each detector the
    first escalated finding's time, kind and delay in hours (None: missed within 24 h), the
    first caution's time, for a night incident with a known usual waking time `wake_ref`
    (`report.wake_reference`) the hours from it to the detection, and for one while out the
    hours from the return that did not happen (`report.return_reference`)."""
    def at(t: float | None) -> str | None:
        return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()

    ret_ref = return_reference(inc)
    found = {}
    for spec in specs:
        t = inc.detected.get(spec)
        found[spec] = {"at": at(t), "kind": inc.detected_kind.get(spec),
                       "delay_h": None if t is None else round(max(t - inc.t0, 0.0) / 3600, 3),
                       "first_caution": at(inc.first_caution.get(spec)),
                       "after_usual_wake_h": None if t is None or wake_ref is None
                       else round((t - wake_ref) / 3600, 3),
                       "after_return_h": None if t is None or ret_ref is None
                       else round((t - ret_ref) / 3600, 3)}
    return {"household": inc.household, "at": at(inc.t0), "bucket": inc.bucket,
            "source": inc.source, "while_out": inc.while_out,
            "usual_wake_at": at(wake_ref), "return_at": at(ret_ref), "detected": found}


def return_reference(inc: Incident) -> float | None:
    """For an incident while out: when the person came back on the unmodified stream (the
    later of it and the moment), what "after the return" is measured from; None otherwise.
    Like the usual waking time for a night in bed, it is ground truth the detector is not
    given: nobody can know that someone is not coming back before they would have."""
    if not inc.while_out or inc.next_t is None:
        return None
    return max(inc.t0, inc.next_t)


def usual_wake(times: list[float], tz: str) -> float | None:
    """The person's usual waking time (seconds after local midnight), from the times of what
    they caused: each day, the end of the last quiet spell of 2 h or more that ends between
    03:00 and 14:00 and is followed by activity that goes on (something in at least two of
    the next three 10-minute bins; a night-time toilet visit is not getting up); the median
    over days."""
    if len(times) < 2:
        return None
    zone = ZoneInfo(tz)
    t = np.sort(np.asarray(times))
    gaps = np.diff(t)
    wakes: dict[Any, float] = {}
    for k in np.flatnonzero(gaps >= 7200.0).tolist():
        end = float(t[k + 1])
        d = datetime.fromtimestamp(end, zone)
        sec = d.hour * 3600 + d.minute * 60 + d.second
        if not 3 * 3600 <= sec < 14 * 3600:
            continue
        nxt = t[(t >= end) & (t < end + 1800.0)]
        if len({int((y - end) // 600) for y in nxt.tolist()}) < 2:
            continue
        wakes[d.date()] = float(sec)  # the last one of the day wins
    return float(np.median(list(wakes.values()))) if wakes else None


def label_incidents(labels: list[Label], timezones: dict[str, str], start: float
                    ) -> list[Incident]:
    out = []
    for k, lb in enumerate(labels):
        if lb.kind in PERSON_INCIDENTS and lb.household in timezones:
            hour = datetime.fromtimestamp(lb.start, ZoneInfo(timezones[lb.household])).hour
            out.append(Incident(10_000 + k, lb.household, lb.start, bucket_of(hour), lb.kind))
    return out


def evaluate(header: dict[str, Any], messages: Iterator[Message], specs: list[str],
             settings: DetectorSettings, warmup_s: float, start: float, end: float,
             inject: int = 0, seed: int = 0, labels: list[Label] | None = None,
             tick_s: float = 120.0) -> Outcome:
    h = Harness(header, specs, settings, tick_s)
    homes = sorted(h.timezones.items())
    incidents = plan_incidents(homes, start, end, warmup_s, inject, seed)
    n = h.run(messages, incidents)
    labelled = label_incidents(labels or [], h.timezones, start)
    for inc in labelled:
        for spec in specs:
            hits = [a for a in h.alerts if a.detector == spec and a.household == inc.household
                    and a.severity != "caution" and not a.kind.startswith("device.")
                    and inc.t0 <= a.at <= inc.t0 + HORIZON_S]
            first = min(hits, key=lambda a: a.at) if hits else None
            inc.detected[spec] = first.at if first else None
            if first:
                inc.detected_kind[spec] = first.kind
    wakes = {hid: usual_wake(ts, h.timezones[hid]) for hid, ts in h.person_times.items()}
    groups = {str(x["id"]): {k: str(x[k]) for k in GROUP_KEYS if x.get(k)}
              for x in header.get("households", []) if "id" in x}
    return Outcome(specs, [x for x, _ in homes], start, end, warmup_s, h.alerts,
                   incidents + labelled, labels or [],
                   {k: v for k, v in wakes.items() if v is not None}, h.timezones, n,
                   h.activity, groups)

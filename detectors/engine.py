"""The detection engine: readings in (`observe`), findings out on a clock (`evaluate(now)`).

State for every household lives in numpy arrays (`state.Table`), so one tick evaluates all of
them with a few vectorised operations. Nothing is timed in memory: inactivity is an integral
from a stored reference time, so a restart that loads the stored state (`export`/`adopt`, and
`anbu.storage.detectors`) and evaluates `now` raises at once what came due in between. The
engine is pure: no I/O, no wall clock; time arrives with the readings and as `now`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from anbu.domain import Kind, Reading, Severity
from detectors import (
    climate,
    devices,
    inactivity,
    layouts,
    power,
    presence,
    rhythm,
    routine,
    signs,
    vitals,
)
from detectors.describe import Emitter
from detectors.findings import Finding, FindingKind
from detectors.settings import DetectorSettings
from detectors.signs import Sign
from detectors.state import NAN, REL_BASE, Table, rel

DAY = 86400.0
HH_FIELDS = (devices.HH_FIELDS + signs.HH_FIELDS + rhythm.FIELDS + inactivity.FIELDS
             + presence.FIELDS + routine.FIELDS + vitals.FIELDS + climate.FIELDS + power.FIELDS)
DEV_FIELDS = devices.DEV_FIELDS + signs.DEV_FIELDS
#: a home counts as lived in (for silent-sensor checks) with a confirmed sign this recent
LIVE_S = 6 * 3600.0
#: devices, isolation, climate and power use are checked this often (engine time) ...
SLOW_EVERY_S = 600.0
#: ... in this many stripes (blocks of consecutive household or device rows), each due at
#: its own phase of the period: a tick checks a tenth of them, not all of them every tenth
#: tick (on 100,000 homes the device checks alone took 30 ms). While homes are being added
#: the blocks' bounds move, so a home may wait up to one more period once.
SLOW_STRIPES = 10
#: at most this many homes relearn their rhythm and thresholds in one tick (after midnight)
RELEARN_PER_TICK = 1000


class PackedState(Protocol):
    """What `adopt` needs (a `HouseholdState`, or a row loaded from storage)."""

    @property
    def household_id(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def household(self) -> bytes: ...
    @property
    def device_ids(self) -> tuple[str, ...]: ...
    @property
    def device_kinds(self) -> tuple[str, ...]: ...
    @property
    def devices(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class HouseholdState:
    """One household's detector state, packed: what is stored and what a fork copies."""

    household_id: str
    timezone: str
    household: bytes
    device_ids: tuple[str, ...]
    device_kinds: tuple[str, ...]
    devices: bytes
    last_sign: float | None
    last_heard: float | None
    state: str


#: the state column holding the level last raised, for conditions that end with signs of life
_LEVEL_FIELDS = {"inactivity": "in_level", "overdue_return": "pr_level"}


class Engine:
    def __init__(self, settings: DetectorSettings | None = None,
                 timezone: str = "Asia/Seoul", capacity: int = 16) -> None:
        self.s = settings or DetectorSettings()
        self.default_tz = timezone
        self.hh = Table(HH_FIELDS, capacity)
        self.dv = Table(DEV_FIELDS, capacity * 8)
        self.ids: list[str] = []
        self._index: dict[str, int] = {}
        self._dev_index: dict[tuple[int, str], int] = {}
        self.dev_ids: list[str] = []
        self._hh_devs: list[list[int]] = []
        self.zones: list[str] = []
        self._zone_index: dict[str, int] = {}
        self._zinfo: list[ZoneInfo] = []
        self._off_cache: dict[tuple[int, int], float] = {}
        #: silence before this time is the engine's own downtime, not a silent gateway
        self.resumed = -math.inf
        self._slow_last = -math.inf

    # -- households and devices ------------------------------------------------------
    def add_household(self, household_id: str, timezone: str | None = None,
                      t: float | None = None) -> int:
        i = self._index.get(household_id)
        if i is not None:
            return i
        i = self.hh.add()
        self.ids.append(household_id)
        self._index[household_id] = i
        self._hh_devs.append([])
        self.hh.a["dh_zone"][i] = self._zone(timezone or self.default_tz)
        self.hh.a["dh_active"][i] = True
        if t is not None:
            self._start(i, t)
        return i

    def _start(self, i: int, t: float) -> None:
        self.hh.a["dh_created"][i] = rel(t)
        inactivity.start(self.hh, i, t)

    def _zone(self, name: str) -> int:
        z = self._zone_index.get(name)
        if z is None:
            z = len(self.zones)
            self._zinfo.append(ZoneInfo(name))
            self.zones.append(name)
            self._zone_index[name] = z
        return z

    def _device(self, i: int, device_id: str, kind: Kind) -> int:
        j = self._dev_index.get((i, device_id))
        if j is None:
            j = self.dv.add()
            self._dev_index[(i, device_id)] = j
            self.dev_ids.append(device_id)
            self._hh_devs[i].append(j)
            self.dv.a["dv_hh"][j] = i
            self.dv.a["dv_kind"][j] = devices.KIND_CODE[kind]
        return j

    def index(self, household_id: str) -> int | None:
        return self._index.get(household_id)

    def offset(self, i: int, t: float) -> float:
        """UTC offset (seconds) of household i's time zone at t (cached per hour)."""
        z = int(self.hh.a["dh_zone"][i])
        key = (z, int(t // 3600.0))
        off = self._off_cache.get(key)
        if off is None:
            u = datetime.fromtimestamp(t, UTC).astimezone(self._zinfo[z]).utcoffset()
            off = u.total_seconds() if u is not None else 0.0
            if len(self._off_cache) > 100_000:
                self._off_cache.clear()
            self._off_cache[key] = off
        return off

    def _offsets(self, t: float) -> NDArray[np.float64]:
        zone_off = np.array([self.offset_zone(z, t) for z in range(len(self.zones))] or [0.0])
        out: NDArray[np.float64] = zone_off[self.hh.a["dh_zone"][: self.hh.n]]
        return out

    def offset_zone(self, z: int, t: float) -> float:
        u = datetime.fromtimestamp(t, UTC).astimezone(self._zinfo[z]).utcoffset()
        return u.total_seconds() if u is not None else 0.0

    # -- readings in -----------------------------------------------------------------
    def observe(self, readings: Iterable[Reading]) -> None:
        for r in readings:
            self.observe_one(r)

    def observe_one(self, r: Reading) -> None:
        i = self._index.get(r.household_id)
        if i is None:
            i = self.add_household(r.household_id)
        hh, s = self.hh, self.s
        t = r.time.timestamp()
        if math.isnan(hh.a["dh_created"][i]):
            self._start(i, t)
        j = self._device(i, r.device_id, r.kind)
        off = self.offset(i, t)
        kind = r.kind
        if kind == Kind.STATUS and devices.is_will(r):
            if r.data.get("role") == "gateway" or r.device_id.startswith("gw"):
                self._gateway_down(i, t, off)
            return
        self._heard(i, t, off)
        devices.on_reading(self.dv, j, t)
        if kind == Kind.STATUS:
            devices.on_status(self.dv, j, r, s)
            return
        if kind == Kind.ENV:
            temp = r.data.get("temp_c")
            if isinstance(temp, int | float):
                climate.on_env(hh, i, t, float(temp), s)
            return
        sign = signs.classify(r)
        if kind == Kind.POWER:
            w = r.data.get("w")
            if not isinstance(w, int | float):
                return
            step = signs.is_power_step(float(hh.a["pw_w"][i]), float(hh.a["pw_t"][i]),
                                       float(w), t, s)
            power.on_power(hh, i, t, float(w), step)
            sign = Sign.NOISY if step else Sign.NONE
        elif kind == Kind.MOTION:
            if devices.on_motion(self.dv, j, t, r.value == 1.0, s):
                return
        elif kind == Kind.PRESENCE:
            presence.on_presence(hh, i, t, r.data.get("place"), r.value == 1.0)
        elif kind == Kind.HEALTH:
            vitals.on_health(hh, i, t, r.data, s)
        elif kind == Kind.BUTTON:
            vitals.on_button(hh, i, t, r.data.get("action"))
        if sign == Sign.NONE:
            return
        if sign == Sign.RELIABLE and kind != Kind.PRESENCE:
            presence.up(hh, i, t)
        self._sign(i, j, t, off, sign, kind == Kind.DOOR and r.data.get("exterior") is True)

    def _sign(self, i: int, j: int, t: float, off: float, sign: Sign, exterior: bool) -> None:
        hh, s = self.hh, self.s
        before = float(hh.a["sg_confirmed"][i])
        counted, corr = signs.count(hh, self.dv, i, j, t, sign, s)
        confirmed = hh.a["sg_confirmed"][i] == t and not before >= t
        if confirmed and not math.isnan(before) and not presence.is_away(hh, i):
            # a confirmed sign ends a silence: waking up, if it was a night's
            in_rest = rhythm.overlaps_rest_one(hh.a["rh_rest"][i], before, before, off)
            routine.on_silence_end(hh, i, before, t, off,
                                   bool(hh.a["in_exc_pose"][i]) or in_rest, in_rest)
        if exterior:
            back = presence.on_door(hh, i, t, off)
        elif counted:
            back = presence.on_sign(hh, i, t, sign == Sign.RELIABLE, corr, s, off)
        else:
            back = False
        if back:
            inactivity.jump(hh, i, t)
        if counted or sign == Sign.RELIABLE:
            if counted:
                devices.on_sign(self.dv, j)
            inactivity.on_sign(hh, i, t, sign == Sign.NOISY, corr, off,
                               not presence.is_away(hh, i), s, counted)
        if confirmed and (hh.a["in_S"][i] <= 0.0 or not inactivity.rests_on_record(hh, i)
                          or signs.strong(hh, i, sign, inactivity.noise_one(hh, i, s))):
            # where a bed or seat sensor can show the person getting up, the night's silence
            # is over for the waking rule only once the evidence of life outweighs it, or
            # noise could hardly have made it: three triggers in 20 minutes that leave the
            # score up (a pet, the sun or a chatty PIR at one an hour) do not end it
            routine.on_confirmed(hh, i, t, off)

    def _heard(self, i: int, t: float, off: float) -> None:
        a = self.hh.a
        since, heard = float(a["dh_offline"][i]), float(a["dh_heard"][i])
        if not math.isnan(since):
            if t >= since:  # back online: the time in between is unknown, not silence
                self._bridge(i, since, t, off)
                a["dh_offline"][i] = NAN
        elif not math.isnan(heard) and t - max(heard, self.resumed) > self.s.gateway_timeout_s:
            self._bridge(i, heard, t, off)
        if math.isnan(heard) or t > heard:
            a["dh_heard"][i] = t

    def _bridge(self, i: int, t_from: float, t_to: float, off: float) -> None:
        inactivity.advance(self.hh, i, t_from, off, not presence.is_away(self.hh, i))
        inactivity.jump(self.hh, i, t_to)

    def _gateway_down(self, i: int, t: float, off: float) -> None:
        if math.isnan(self.hh.a["dh_offline"][i]):
            inactivity.advance(self.hh, i, t, off, not presence.is_away(self.hh, i))
            self.hh.a["dh_offline"][i] = t

    # -- the clock -------------------------------------------------------------------
    def evaluate(self, now: datetime) -> list[Finding]:
        """Findings that start or get worse at `now`, for every household at once."""
        n = self.hh.n
        if n == 0:
            return []
        t = now.timestamp()
        a, s = self.hh.a, self.s
        off = self._offsets(t)
        self._new_days(t, off)
        # a household seen by name but not yet by any reading has nothing to evaluate
        act = a["dh_active"][:n] & ~np.isnan(a["dh_created"][:n])
        offline = devices.gateway(self.hh, t, self.resumed, s)
        for i in presence.departures(self.hh, t, s).tolist():
            inactivity.reset(self.hh, i, t, float(off[i]))
            door = float(a["pr_door"][i])
            rest = rhythm.overlaps_rest_one(a["rh_rest"][i], door, door, float(off[i]))
            hour = int(((door + float(off[i])) % DAY) // 3600)
            presence.note_exit(self.hh, i, hour, rest, bool(a["in_days"][i] >= s.warmup_days))
        away = a["pr_is_away"][:n].copy()
        warm = a["in_days"][:n] >= s.warmup_days
        horizon = np.where(offline, a["dh_offline"][:n], t)
        out: list[Finding] = []
        emit = Emitter(self, now, out)

        idx = np.flatnonzero(act & ~away)
        score = inactivity.score(self.hh, idx, horizon[idx], off[idx])
        conf = a["sg_confirmed"][idx]
        created = a["dh_created"][idx].astype(np.float64) + REL_BASE
        silence = horizon[idx] - np.where(np.isnan(conf), created, conf)
        want = inactivity.levels(self.hh, idx, score, silence, off[idx], s)
        too_long = presence.rest_levels(self.hh, idx, horizon[idx], silence, warm[idx],
                                        off[idx])
        missed = routine.levels(self.hh, idx, horizon[idx], warm[idx])
        want = np.maximum.reduce([want, too_long, missed])
        emit(FindingKind.INACTIVITY, idx, want, a["in_level"], score=score)
        a["in_alerted"][idx[want >= Severity.ALARM]] = True

        idx = np.flatnonzero(act & away)
        want = presence.overdue_levels(self.hh, idx, horizon[idx], warm[idx], off[idx], s)
        emit(FindingKind.OVERDUE_RETURN, idx, want, a["pr_level"])
        a["pr_alerted"][idx[want >= Severity.ALARM]] = True
        want = presence.wandering_levels(self.hh, idx, horizon[idx], warm[idx], s)
        emit(FindingKind.WANDERING, idx, want, a["pr_wlevel"])

        idx = np.flatnonzero(act & (a["vt_sev"][:n] > a["vt_level"][:n]))
        emit(FindingKind.VITALS, idx, a["vt_sev"][idx], a["vt_level"])
        so, done = a["so_t"][:n], a["so_done"][:n]
        idx = np.flatnonzero(act & ~np.isnan(so) & (np.isnan(done) | (so > done)))
        a["so_done"][idx] = so[idx]
        emit(FindingKind.SOS, idx, np.full(idx.shape[0], 3, np.int8), np.zeros(n, np.int8))

        idx = np.flatnonzero(act)
        emit(FindingKind.DEVICE_GATEWAY_OFFLINE, idx,
             devices.gateway_levels(self.hh, t, offline)[idx], a["dh_glevel"], sticky=False)
        stripes = self._slow_stripes(t)
        if stripes:
            self._slow(t, act, away, offline, warm, emit, stripes)
        return out

    def _slow_stripes(self, t: float) -> list[int]:
        """The stripes whose slow checks are due at `t`: stripe k at the times
        m x SLOW_EVERY_S + k x SLOW_EVERY_S / SLOW_STRIPES that passed since the last tick;
        all of them on the first tick (after a restart), after a long gap, or if time went
        back."""
        prev, self._slow_last = self._slow_last, t
        if not t - SLOW_EVERY_S < prev <= t:
            return list(range(SLOW_STRIPES))
        step = SLOW_EVERY_S / SLOW_STRIPES
        return sorted({b % SLOW_STRIPES
                       for b in range(math.floor(prev / step) + 1, math.floor(t / step) + 1)})

    def _slow(self, t: float, act: NDArray[np.bool_], away: NDArray[np.bool_],
              offline: NDArray[np.bool_], warm: NDArray[np.bool_], emit: Emitter,
              stripes: list[int]) -> None:
        """What changes over hours (devices, isolation, heat and cold, power use): every
        `SLOW_EVERY_S` of engine time rather than every tick, for the households and devices
        of `stripes`. Nothing here is timed in memory: a restarted engine runs all of it on
        its first tick."""
        a, s, n = self.hh.a, self.s, self.hh.n
        watched = act & ~offline
        hsel = _stripe_rows(n, stripes)
        idx = hsel[(watched & ~away)[hsel]]
        emit(FindingKind.ISOLATION, idx,
             presence.isolation_levels(self.hh, idx, t, a["dh_created"][idx], s), a["pr_ilevel"])
        want = climate.levels(self.hh, idx, t, s)
        emit(FindingKind.HEAT, idx, want[:, 0], a["cl_level"][:, 0])
        emit(FindingKind.COLD, idx, want[:, 1], a["cl_level"][:, 1])
        want = power.levels(self.hh, idx, t, warm[idx], s)
        # with other signs of life in the last day, flat power is a case-management signal
        alive = t - np.nan_to_num(a["sg_confirmed"][idx], nan=-1e18) < DAY
        want[:, 0] = np.where(alive, np.minimum(want[:, 0], 1), want[:, 0])
        emit(FindingKind.POWER_ANOMALY, idx, want[:, 0], a["pw_level"][:, 0], part="flat")
        emit(FindingKind.POWER_ANOMALY, idx, want[:, 1], a["pw_level"][:, 1], part="low",
             sticky=False)
        live = act & ~away & (t - np.nan_to_num(a["sg_confirmed"][:n], nan=-1e18) < LIVE_S)
        for lo, hi in _stripe_bounds(self.dv.n, stripes):  # slices of the columns: views
            keep = act[self.dv.a["dv_hh"][lo:hi]]
            didx = np.arange(lo, hi)[keep]
            want = devices.device_levels(self.dv, slice(lo, hi), t, offline, live, s)[keep]
            for col, kind in ((devices.OFFLINE, FindingKind.DEVICE_OFFLINE),
                              (devices.BATTERY, FindingKind.DEVICE_LOW_BATTERY),
                              (devices.STUCK, FindingKind.DEVICE_STUCK),
                              (devices.SILENT, FindingKind.DEVICE_SILENT)):
                emit(kind, didx, want[:, col], self.dv.a["dv_lvl"][:, col], sticky=False,
                     device=True)

    def _new_days(self, t: float, off: NDArray[np.float64]) -> None:
        a, n = self.hh.a, self.hh.n
        today = np.floor((t + off) / DAY).astype(np.int64)
        idx = np.flatnonzero(a["dh_active"][:n] & (today > a["in_day"][:n])
                             & ~np.isnan(a["dh_created"][:n]))
        if idx.shape[0] == 0:
            return
        # spread the daily relearning of many homes over the ticks after midnight
        idx = idx[:RELEARN_PER_TICK]
        last = a["in_day"][idx].astype(np.int64)
        elapsed = np.where(last < 0, 0, today[idx] - last).astype(np.float64)
        gamma = np.exp(-elapsed / self.s.memory_days)
        inactivity.new_day(self.hh, idx, today[idx], gamma, self.s)
        presence.new_day(self.hh, idx, gamma, self.s)
        routine.new_day(self.hh, idx, gamma, a["sg_confirmed"][idx], off[idx])
        devices.new_day(self.dv, idx)
        home = ~a["pr_is_away"][idx] & (rel(t) - a["pw_first"][idx] >= 2 * DAY)
        power.new_day(self.hh, idx, home & np.isnan(a["dh_offline"][idx]))

    # -- state out and in ------------------------------------------------------------
    def state_of(self, household_id: str, now: float) -> str:
        """home | asleep | away | unknown (gateway offline)."""
        i = self._index[household_id]
        a = self.hh.a
        if not math.isnan(a["dh_offline"][i]):
            return "unknown"
        if presence.is_away(self.hh, i):
            return "away"
        return "asleep" if rhythm.is_rest(a["rh_cum"][i], now, self.offset(i, now)) else "home"

    def last_sign(self, household_id: str) -> float | None:
        """When the household last showed a sign of life (epoch seconds), or None."""
        i = self._index.get(household_id)
        if i is None:
            return None
        last = float(self.hh.a["sg_last"][i])
        return None if math.isnan(last) else last

    def export(self, household_id: str) -> HouseholdState:
        i = self._index[household_id]
        a = self.hh.a
        devs = self._hh_devs[i]
        kinds = tuple(devices.KINDS[int(self.dv.a["dv_kind"][j])].value for j in devs)
        heard = float(a["dh_heard"][i])
        last = float(a["sg_last"][i])
        return HouseholdState(
            household_id, self.zones[int(a["dh_zone"][i])], self.hh.pack([i]),
            tuple(self.dev_ids[j] for j in devs), kinds, self.dv.pack(devs),
            None if math.isnan(last) else last, None if math.isnan(heard) else heard,
            self.state_of(household_id, heard if not math.isnan(heard) else 0.0))

    def adopt(self, st: PackedState, household_id: str | None = None,
              fmt: int | None = None) -> int:
        """Load a packed state as `household_id` (default: its own id), replacing any.
        `fmt` is the layout it was packed with (default: this engine's); an older known
        layout (`layouts.KNOWN`) is adopted field by field, new fields taking their defaults
        (`upgrade`); an unknown one raises ValueError."""
        old = None
        if fmt is not None and fmt != self.state_format():
            old = layouts.records(fmt)
            if old is None:
                raise ValueError(f"unknown detector state layout {fmt}")
        hid = household_id or st.household_id
        if hid in self._index:
            self.remove(hid)
        i = self.add_household(hid, st.timezone)
        if old is None:
            self.hh.unpack([i], st.household)
        else:
            missing = self.hh.unpack_from([i], st.household, old[0])
            upgrade(self.hh, i, np.frombuffer(st.household, dtype=old[0])[0], missing)
        self.hh.a["dh_zone"][i] = self._zone(st.timezone)
        self.hh.a["dh_active"][i] = True
        rows = [self._device(i, d, Kind(k)) for d, k in zip(st.device_ids, st.device_kinds,
                                                            strict=True)]
        if rows:
            if old is None:
                self.dv.unpack(rows, st.devices)
            else:
                self.dv.unpack_from(rows, st.devices, old[1])
            self.dv.a["dv_hh"][rows] = i
        return i

    def state_format(self) -> int:
        """A number that changes whenever the packed layout does (stored with the state)."""
        return layouts.format_of(self.hh.record, self.dv.record)

    def knows_format(self, fmt: int) -> bool:
        """Can `adopt` load a state packed with layout `fmt` (this one, or a known older)?"""
        return fmt == self.state_format() or fmt in layouts.KNOWN

    def remove(self, household_id: str) -> None:
        """Stop watching a household (its rows stay, inactive)."""
        i = self._index.pop(household_id)
        self.hh.a["dh_active"][i] = False
        for j in self._hh_devs[i]:
            self._dev_index.pop((i, self.dev_ids[j]), None)

    def reported_level(self, household_id: str, kind: str) -> int:
        """The severity last raised for a condition that still holds; 0 once the engine has
        judged it over (credible signs of life, or the person came home). For the alert side:
        an alert whose condition is over may be closed as auto-resolved."""
        i = self._index.get(household_id)
        field = _LEVEL_FIELDS.get(kind)
        return 0 if i is None or field is None else int(self.hh.a[field][i])

    def resume(self, now: datetime) -> None:
        """Mark the start of this run: silence before `now` was anbu's downtime, not a
        silent gateway (the inactivity integral still covers it)."""
        self.resumed = now.timestamp()

    @property
    def households(self) -> list[str]:
        return list(self._index)

    def bytes_per_household(self) -> float:
        """Bytes of numpy state per watched household (households + their devices)."""
        n = max(len(self._index), 1)
        return self.hh.row_bytes + self.dv.row_bytes * self.dv.n / n


def _stripe_bounds(n: int, stripes: list[int]) -> list[tuple[int, int]]:
    """[lo, hi) row ranges of 0..n-1 that the blocks `stripes` (ascending) cover, stripe k
    being the k-th of SLOW_STRIPES blocks of consecutive rows; adjacent blocks merged."""
    out: list[tuple[int, int]] = []
    for k in stripes:
        lo, hi = k * n // SLOW_STRIPES, (k + 1) * n // SLOW_STRIPES
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        elif hi > lo:
            out.append((lo, hi))
    return out


def _stripe_rows(n: int, stripes: list[int]) -> NDArray[np.int64]:
    """The rows of `_stripe_bounds`, ascending."""
    parts = [np.arange(lo, hi) for lo, hi in _stripe_bounds(n, stripes)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def upgrade(hh: Table, i: int, old: NDArray[Any], missing: list[str]) -> None:
    """Fields a state of an older layout (`old`, its record) did not have, derived where
    possible from what it had (the rest keep their defaults)."""
    presence.upgrade(hh, i, old, missing)

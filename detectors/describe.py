"""Findings with their explanation and evidence, built when the engine raises them (rarely, so
scalar code is fine here). Times in explanations are the household's local clock."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from anbu.domain import Severity
from detectors import devices, inactivity, presence, rhythm, vitals
from detectors.findings import Explanation, Finding, FindingKind, explain
from detectors.state import unrel

if TYPE_CHECKING:
    from detectors.engine import Engine

DAY = 86400.0


def _local(e: Engine, i: int, t: float, now: float) -> str:
    zone = ZoneInfo(e.zones[int(e.hh.a["dh_zone"][i])])
    d = datetime.fromtimestamp(t, zone)
    same_day = d.date() == datetime.fromtimestamp(now, zone).date()
    return d.strftime("%H:%M") if same_day else d.strftime("%m-%d %H:%M")


def _iso(t: float) -> str | None:
    if math.isnan(t):
        return None
    return datetime.fromtimestamp(t, UTC).isoformat()


def describe(e: Engine, kind: FindingKind, row: int, sev: Severity, now_dt: datetime,
             device: bool = False, score: float | None = None, part: str = "") -> Finding:
    now = now_dt.timestamp()
    i = int(e.dv.a["dv_hh"][row]) if device else row
    evidence: dict[str, Any] = {}
    if device:
        evidence["device"] = e.dev_ids[row]
    if kind.is_device:
        text = _device(e, kind, row, i, now, evidence)
    else:
        text = _PERSON[kind](e, i, now, sev, score, part, evidence)
    return Finding(e.ids[i], kind.value, sev, now_dt, text, evidence)


def _inactivity(e: Engine, i: int, now: float, sev: Severity, score: float | None, part: str,
                ev: dict[str, Any]) -> Explanation:
    a, s = e.hh.a, e.s
    off = e.offset(i, now)
    conf = float(a["sg_confirmed"][i])
    since = conf if not math.isnan(conf) else unrel(float(a["dh_created"][i]))
    horizon = float(a["dh_offline"][i]) if not math.isnan(a["dh_offline"][i]) else now
    silence = horizon - since
    warm = bool(a["in_days"][i] >= s.warmup_days)
    start = float(a["in_exc_start"][i])
    rest = rhythm.overlaps_rest_one(a["rh_rest"][i], start, horizon, off)
    blk = inactivity.block_of(start, off)
    ev.update(silence_s=round(silence), since=_iso(since), mode="learned" if warm else "fixed",
              score=None if score is None else round(score, 2),
              thresholds=[round(float(x), 2) for x in a["in_h"][i, blk,
                                                               min(int(a["in_exc_pose"][i]), 1)]],
              expected_per_h=round(rhythm.rate_one(
                  a["rh_rcum"][i] if a["in_exc_pose"][i] else a["rh_cum"][i], now, off), 2),
              state="asleep" if rest else "home", resting=bool(a["in_exc_pose"][i]))
    when = _local(e, i, since, now)
    if not warm:
        return explain("inactivity.fixed", silence=silence, since=when,
                       threshold=s.fixed_hours[min(int(sev), 3) - 1] * 3600.0)
    cum = a["rh_cum"][i]
    if rest:
        day, _ = rhythm.where(now, off)
        wake = rhythm.usual_wake_slot(cum, rhythm.daytype(day)) * rhythm.SLOT_S
        return explain("inactivity.rest", silence=silence, since=when,
                       wake=f"{int(wake // 3600):02d}:{int(wake % 3600 // 60):02d}",
                       now=_local(e, i, now, now))
    lam = rhythm.rate_one(cum, now, off)
    if lam <= 0.05:
        return explain("inactivity.day", silence=silence, since=when)
    return explain("inactivity.rhythm", silence=silence, since=when, every=3600.0 / lam)


def _overdue(e: Engine, i: int, now: float, sev: Severity, score: float | None, part: str,
             ev: dict[str, Any]) -> Explanation:
    a = e.hh.a
    since = float(a["pr_door"][i])
    warm = bool(a["in_days"][i] >= e.s.warmup_days)
    off = e.offset(i, since)
    longest = presence.longest_outing(a["pr_out"][i], since, off)
    h = presence.overdue_thresholds(a["pr_out"][i : i + 1], a["pr_back"][i : i + 1],
                                    np.array([since]),
                                    np.array([off]), np.array([warm]), e.s)[0]
    back = presence.usual_return(a["pr_back"][i], since, off)
    ret = presence.return_thresholds(a["pr_back"][i : i + 1], np.array([since]),
                                     np.array([off]))[0]
    ev.update(away_s=round(now - since), since=_iso(since), longest_outing_s=longest,
              thresholds_s=[round(float(x)) for x in h] if warm else None,
              usual_return=_iso(back) if back is not None else None)
    if warm and back is not None and ret[1] <= h[1]:  # the usual return time set the alarm
        return explain("overdue_return.back", since=_local(e, i, since, now), away=now - since,
                       back=_local(e, i, back, now))
    if longest is None:
        return explain("overdue_return.new", since=_local(e, i, since, now), away=now - since)
    return explain("overdue_return", since=_local(e, i, since, now), away=now - since,
                   usual=longest)


def _wandering(e: Engine, i: int, now: float, sev: Severity, score: float | None, part: str,
               ev: dict[str, Any]) -> Explanation:
    since = float(e.hh.a["pr_door"][i])
    ev.update(away_s=round(now - since), since=_iso(since))
    return explain("wandering", since=_local(e, i, since, now), away=now - since)


def _isolation(e: Engine, i: int, now: float, sev: Severity, score: float | None, part: str,
               ev: dict[str, Any]) -> Explanation:
    a = e.hh.a
    last = float(a["pr_last_exit"][i])
    since = unrel(last if not math.isnan(last) else float(a["dh_created"][i]))
    ev.update(since=_iso(since), days=int((now - since) // DAY), seen_exit=not math.isnan(last))
    return explain("isolation", days=int((now - since) // DAY), since=_local(e, i, since, now))


def _vitals(e: Engine, i: int, now: float, sev: Severity, score: float | None, part: str,
            ev: dict[str, Any]) -> Explanation:
    a = e.hh.a
    m = int(a["vt_metric"][i])
    name = vitals.METRICS[m]
    lo, hi = vitals.range_of(e.hh, i, m, e.s)
    value = float(a["vt_value"][i])
    ev.update(metric=name, value=value, low=round(lo, 1), high=round(hi, 1),
              at=_iso(float(a["vt_t"][i])))
    return explain("vitals", metric=name, metric_ko=vitals.NAMES_KO[name], value=f"{value:g}",
                   low=f"{lo:.0f}", high=f"{hi:.0f}")


def _sos(e: Engine, i: int, now: float, sev: Severity, score: float | None, part: str,
         ev: dict[str, Any]) -> Explanation:
    t = float(e.hh.a["so_t"][i])
    ev.update(pressed_at=_iso(t))
    return explain("sos", since=_local(e, i, t, now))


def _climate(col: int, key: str) -> Any:
    def build(e: Engine, i: int, now: float, sev: Severity, score: float | None, part: str,
              ev: dict[str, Any]) -> Explanation:
        a = e.hh.a
        k = 2 * col + (1 if sev >= Severity.ALARM else 0)
        span = now - unrel(float(a["cl_since"][i, k]))
        temp = round(float(a["cl_temp"][i]), 1)
        ev.update(temp_c=temp, span_s=round(span))
        return explain(key, temp=f"{temp:g}", span=span)
    return build


def _power(e: Engine, i: int, now: float, sev: Severity, score: float | None, part: str,
           ev: dict[str, Any]) -> Explanation:
    a = e.hh.a
    if part == "low":
        total = float(a["pw_bins"][i].sum())
        usual = max(float(a["pw_usual"][i]), 1e-6)
        ev.update(rule="low", wh_48h=round(total), usual_wh_48h=round(usual))
        return explain("power_anomaly.low", pct=int(round(100 * total / usual)))
    step = float(a["pw_step"][i])
    since = unrel(step if not math.isnan(step) else float(a["pw_first"][i]))
    ev.update(rule="flat", since=_iso(since), silence_s=round(now - since))
    return explain("power_anomaly.flat", silence=now - since, since=_local(e, i, since, now))


_PERSON: dict[FindingKind, Any] = {
    FindingKind.INACTIVITY: _inactivity,
    FindingKind.OVERDUE_RETURN: _overdue,
    FindingKind.WANDERING: _wandering,
    FindingKind.ISOLATION: _isolation,
    FindingKind.VITALS: _vitals,
    FindingKind.SOS: _sos,
    FindingKind.HEAT: _climate(0, "heat"),
    FindingKind.COLD: _climate(1, "cold"),
    FindingKind.POWER_ANOMALY: _power,
}


def _device(e: Engine, kind: FindingKind, j: int, i: int, now: float,
            ev: dict[str, Any]) -> Explanation:
    a, d = e.hh.a, e.dv.a
    dev = e.dev_ids[j]
    if kind == FindingKind.DEVICE_GATEWAY_OFFLINE:
        since = float(a["dh_offline"][i])
        ev.pop("device", None)
        ev.update(since=_iso(since), span_s=round(now - since))
        return explain("device.gateway_offline", since=_local(e, i, since, now),
                       span=now - since)
    if kind == FindingKind.DEVICE_OFFLINE:
        since = unrel(float(d["dv_seen"][j]))
        ev.update(since=_iso(since), span_s=round(now - since))
        return explain("device.offline", device=dev, since=_local(e, i, since, now),
                       span=now - since)
    if kind == FindingKind.DEVICE_LOW_BATTERY:
        pct = float(d["dv_batt"][j])
        ev.update(battery_pct=pct)
        return explain("device.low_battery", device=dev, pct=f"{pct:g}")
    if kind == FindingKind.DEVICE_STUCK:
        since = unrel(float(d["dv_msince"][j]))
        ev.update(since=_iso(since), reports=int(d["dv_mcount"][j]))
        return explain("device.stuck", device=dev, since=_local(e, i, since, now))
    quiet = now - unrel(float(d["dv_sign"][j]))
    ev.update(span_s=round(quiet), kind=devices.KINDS[int(d["dv_kind"][j])].value)
    return explain("device.silent", device=dev, span=quiet)


class Emitter:
    """Raises findings where the wanted level exceeds the reported one, and records it."""

    def __init__(self, engine: Engine, now: datetime, out: list[Finding]) -> None:
        self.e, self.now, self.out = engine, now, out

    def __call__(self, kind: FindingKind, idx: NDArray[np.int64], want: NDArray[np.int8],
                 stored: NDArray[np.int8], sticky: bool = True, device: bool = False,
                 score: NDArray[np.float64] | None = None, part: str = "") -> None:
        if idx.shape[0] == 0:
            return
        cur = stored[idx]
        up = np.flatnonzero(want > cur)
        for k in up.tolist():
            row = int(idx[k])
            sc = None if score is None else float(score[k])
            self.out.append(describe(self.e, kind, row, Severity(int(want[k])), self.now,
                                     device=device, score=sc, part=part))
        if up.shape[0]:
            stored[idx[up]] = want[up]
        if not sticky:
            clear = np.flatnonzero((want == 0) & (cur != 0))
            if clear.shape[0]:
                stored[idx[clear]] = 0

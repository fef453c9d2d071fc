"""Scores of an evaluation run: false alarms per household-month, detection delays by time of
day, and the comparison with the fixed thresholds at an equal or lower false-alarm rate.

Delays count a missed incident (nothing escalated within 24 h) as infinitely late, so a median
or p90 that falls on a missed incident is reported as null (shown as "> 24 h"), never hidden.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from detectors import trend
from detectors.evaluate import BUCKETS, GROUP_KEYS, Incident, Outcome, return_reference
from simulators.incidents import PERSON_INCIDENTS

DAY = 86400.0
MONTH = 30 * DAY
WITHIN_H = (1, 2, 4, 6, 12, 24)


def _q(values: list[float], q: float) -> float | None:
    """Quantile with missed incidents as +inf; None when it lands on one (or no data)."""
    if not values:
        return None
    v = float(np.quantile(np.asarray(values), q, method="higher"))
    return None if math.isinf(v) else round(v, 2)


def _delays(incs: list[Incident], spec: str) -> list[float]:
    out = []
    for inc in incs:
        t = inc.detected.get(spec)
        out.append(math.inf if t is None else max(t - inc.t0, 0.0) / 3600.0)
    return out


def _stats(incs: list[Incident], spec: str) -> dict[str, Any]:
    d = _delays(incs, spec)
    return {"n": len(d), "median_h": _q(d, 0.5), "p90_h": _q(d, 0.9)}


def wake_reference(out: Outcome, inc: Incident) -> float | None:
    """For a night incident (00-08) in a home whose usual waking time is known: the later of
    the moment and the person's usual waking time that morning (what "after usual wake" is
    measured from); None otherwise."""
    if inc.bucket != "night" or inc.household not in out.usual_wake_s:
        return None
    zone = ZoneInfo(out.timezones[inc.household])
    d0 = datetime.fromtimestamp(inc.t0, zone).date()
    mid = datetime(d0.year, d0.month, d0.day, tzinfo=zone).timestamp()
    return max(inc.t0, mid + out.usual_wake_s[inc.household])


def incident_scores(out: Outcome, incs: list[Incident], spec: str) -> dict[str, Any]:
    d = _delays(incs, spec)
    detected = sum(1 for x in d if not math.isinf(x))
    res: dict[str, Any] = {
        "incidents": len(d),
        "detected_24h": detected,
        "missed_24h": len(d) - detected,
        "share_within": {f"{h}h": round(sum(1 for x in d if x <= h) / len(d), 3) if d else None
                         for h in WITHIN_H},
        "all": _stats(incs, spec),
    }
    for b in BUCKETS:
        res[b] = _stats([i for i in incs if i.bucket == b], spec)
    for name, sel in (("at_home", [i for i in incs if not i.while_out]),
                      ("while_out", [i for i in incs if i.while_out])):
        res[name] = {"all": _stats(sel, spec)} | {
            b: _stats([i for i in sel if i.bucket == b], spec) for b in BUCKETS}
    res["night_after_usual_wake"] = _after(incs, spec, lambda i: wake_reference(out, i))
    res["while_out_after_return"] = _after(incs, spec, return_reference)
    return res


def _after(incs: list[Incident], spec: str, reference: Callable[[Incident], float | None]
           ) -> dict[str, Any]:
    """Delays (hours) counted from `reference` instead of the moment, for the incidents that
    have one (a missed one is infinitely late)."""
    d = []
    for inc in incs:
        ref = reference(inc)
        if ref is None:
            continue
        t = inc.detected.get(spec)
        d.append(math.inf if t is None else (t - ref) / 3600.0)
    return {"n": len(d), "median_h": _q(d, 0.5), "p90_h": _q(d, 0.9)}


def false_alarms(out: Outcome, spec: str) -> dict[str, Any]:
    """Escalated person findings after the warm-up, outside labelled person incidents; an
    alarm that becomes danger in the same episode counts once."""
    cut = out.start + out.warmup_s
    gone: dict[str, float] = {}
    for lb in out.labels:
        if lb.kind in PERSON_INCIDENTS:
            gone[lb.household] = min(gone.get(lb.household, math.inf), lb.start)
    months = max(out.end - cut, 0.0) / MONTH
    per_home = dict.fromkeys(out.households, 0)
    cautions = 0
    devices: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    last: dict[tuple[str, str], int] = {}
    for a in out.alerts:
        if a.detector != spec or a.at < cut or a.at >= gone.get(a.household, math.inf):
            continue
        if a.kind.startswith("device."):
            devices[a.kind] = devices.get(a.kind, 0) + 1
            continue
        key = (a.household, a.kind)
        sev = {"caution": 1, "alarm": 2, "danger": 3}[a.severity]
        if sev == 1:
            cautions += 1
            last[key] = 1
            continue
        prev = last.get(key, 0)
        last[key] = sev
        if prev >= 2 and sev > prev:
            continue  # the same episode got worse
        per_home[a.household] = per_home.get(a.household, 0) + 1
        by_kind[a.kind] = by_kind.get(a.kind, 0) + 1
    total_months = months * max(len(per_home), 1)
    worst = max(per_home.values(), default=0)
    return {
        "escalated": sum(per_home.values()),
        #: escalations by finding kind (inactivity, overdue_return, wandering, heat, ...)
        "escalated_by_kind": dict(sorted(by_kind.items())),
        "household_months": round(total_months, 2),
        "per_household_month": round(sum(per_home.values()) / total_months, 3)
        if total_months else None,
        "worst_household_per_month": round(worst / months, 3) if months else None,
        "cautions_per_household_month": round(cautions / total_months, 2)
        if total_months else None,
        "device_findings_per_household_month": {
            k: round(v / total_months, 2) for k, v in sorted(devices.items())} if total_months
        else {},
    }


def summarize(out: Outcome) -> dict[str, Any]:
    injected = [i for i in out.incidents if i.source == "injected"]
    labelled = [i for i in out.incidents if i.source != "injected"]
    res: dict[str, Any] = {
        "households": len(out.households),
        "days": round((out.end - out.start) / DAY, 2),
        "warmup_days": round(out.warmup_s / DAY, 2),
        "messages": out.messages,
        "usual_wake_local": {k: f"{int(v // 3600):02d}:{int(v % 3600 // 60):02d}"
                             for k, v in sorted(out.usual_wake_s.items())},
        "detectors": {},
    }
    for spec in out.detectors:
        r: dict[str, Any] = {"false_alarms": false_alarms(out, spec)}
        if injected:
            r["injected"] = incident_scores(out, injected, spec)
        if labelled:
            r["labelled"] = incident_scores(out, labelled, spec)
        if injected and out.groups:
            r["by_group"] = by_group(out, injected, spec)
        res["detectors"][spec] = r
    res["comparison"] = compare(res["detectors"], "injected" if injected else "labelled")
    res["weekly_trend"] = weekly(out)
    return res


def by_group(out: Outcome, incs: list[Incident], spec: str) -> dict[str, Any]:
    """The main scores per persona and per sensor kit, as the recording names them
    (`persona:older_regular`, `sensors:minimal` ...): a median over all homes follows the
    mix of people in them."""
    res: dict[str, Any] = {}
    for key in GROUP_KEYS:
        for value in sorted({g[key] for g in out.groups.values() if key in g}):
            homes = {h for h in out.households if out.groups.get(h, {}).get(key) == value}
            sub = replace(out, households=[h for h in out.households if h in homes],
                          alerts=[a for a in out.alerts if a.household in homes])
            mine = [i for i in incs if i.household in homes]
            scores = incident_scores(sub, mine, spec)
            res[f"{key}:{value}"] = {
                "households": len(homes),
                "false_alarms_per_household_month": false_alarms(sub, spec)[
                    "per_household_month"],
                "incidents": len(mine),
                "missed_24h": scores["missed_24h"],
                "day": scores["day"],
                "at_home_day": scores["at_home"]["day"],
                "night_after_usual_wake": scores["night_after_usual_wake"],
            }
    return res


def weekly(out: Outcome) -> dict[str, Any]:
    """The weekly slow-decline report over the recording (never an alarm): per household,
    weekly activity and its change over the last whole weeks (at most 8)."""
    if out.activity is None:
        return {}
    weeks = min(8, int((out.end - out.start) // (7 * DAY)))
    through = {h: (datetime.fromtimestamp(out.end, ZoneInfo(tz)).date() - timedelta(days=1))
               for h, tz in out.timezones.items()}
    rep = trend.report(out.activity, through, weeks=max(weeks, 1))
    declines = {lb.household for lb in out.labels if lb.kind == "decline"}
    flagged = sorted(h for h, t in rep.items() if t.declining)
    res: dict[str, Any] = {"weeks": weeks, "declining": flagged,
                           "households": {h: t.as_dict() for h, t in rep.items()}}
    if out.labels:
        res["labelled_decline"] = sorted(declines)
        res["labelled_decline_flagged"] = sorted(declines & set(flagged))
    return res


def compare(dets: dict[str, Any], part: str) -> dict[str, Any] | None:
    """anbu's daytime median against the best fixed threshold whose false-alarm rate is equal
    or lower (if none is, against the fixed threshold with the fewest false alarms)."""
    if "anbu" not in dets or part not in dets["anbu"]:
        return None
    fa = dets["anbu"]["false_alarms"]["per_household_month"] or 0.0
    mine = dets["anbu"][part]["day"]["median_h"]
    fixed = [(k, v) for k, v in dets.items() if k.startswith("fixed") and part in v]
    if not fixed:
        return None
    ok = [(k, v) for k, v in fixed if (v["false_alarms"]["per_household_month"] or 0.0) <= fa]
    pool = ok or [min(fixed, key=lambda kv: kv[1]["false_alarms"]["per_household_month"] or 0)]

    def day_median(v: dict[str, Any]) -> float:
        m = v[part]["day"]["median_h"]
        return math.inf if m is None else float(m)

    best_k, best_v = min(pool, key=lambda kv: day_median(kv[1]))
    theirs = day_median(best_v)
    return {
        "fixed": best_k,
        "fixed_at_equal_or_lower_false_alarms": bool(ok),
        "fixed_false_alarms_per_household_month":
            best_v["false_alarms"]["per_household_month"],
        "fixed_day_median_h": None if math.isinf(theirs) else theirs,
        "anbu_day_median_h": mine,
        "speedup": None if mine in (None, 0) else
        (None if math.isinf(theirs) else round(theirs / mine, 1)),
        "speedup_at_least": None if mine in (None, 0) else round(
            (24.0 if math.isinf(theirs) else theirs) / mine, 1),
    }


def _fmt(x: float | None) -> str:
    return "> 24" if x is None else f"{x:.2f}"


def markdown(res: dict[str, Any], part: str = "injected") -> str:
    """The results table of docs/evaluation.md."""
    rows = ["| detector | FA / hh-month (worst) | cautions / hh-month | incidents | missed 24 h "
            "| day median / p90 h | 20–24 median / p90 h | 00–08 median / p90 h "
            "| night: after usual wake, median h | at home: day median / p90 h "
            "| while out: after the return, median / p90 h |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for spec, r in res["detectors"].items():
        fa = r["false_alarms"]
        if part not in r:
            continue
        s = r[part]
        rows.append(
            f"| {spec} | {fa['per_household_month']} ({fa['worst_household_per_month']}) | "
            f"{fa['cautions_per_household_month']} | {s['incidents']} | {s['missed_24h']} | "
            f"{_fmt(s['day']['median_h'])} / {_fmt(s['day']['p90_h'])} | "
            f"{_fmt(s['evening']['median_h'])} / {_fmt(s['evening']['p90_h'])} | "
            f"{_fmt(s['night']['median_h'])} / {_fmt(s['night']['p90_h'])} | "
            f"{_fmt(s['night_after_usual_wake']['median_h'])} | "
            f"{_fmt(s['at_home']['day']['median_h'])} / {_fmt(s['at_home']['day']['p90_h'])} | "
            f"{_fmt(s['while_out_after_return']['median_h'])} / "
            f"{_fmt(s['while_out_after_return']['p90_h'])} |")
    return "\n".join(rows)

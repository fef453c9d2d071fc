"""The weekly slow-decline report: how much each person does, week by week, and whether it is
falling. A case-management signal for the planner's weekly review, reported on its own and
**never an alarm** (DETECTION-NOTES §7): the inactivity detector does not learn from spans that
alerted, but a person who slowly does less teaches it a quieter rhythm; this report is what
shows the change.

Two pure steps:

* `DailyActivity` counts, per household and local day, what the engine would count as signs
  of life: deduplicated (one per device per `refractory_s`), split into reliable and noisy
  ones, the *active hours* (an hour with a reliable sign, or with `NOISY_HOUR` noisy ones:
  about one spurious PIR trigger an hour from a pet or the sun does not make an hour active),
  and exits through the exterior door (at most one per 15 minutes);
* `weekly_trend` turns one household's days into weekly means and compares the last
  `recent` weeks with the first `baseline` weeks of the window: the relative change and the
  least-squares slope per week, both against that baseline. `declining` needs a sustained
  fall (`DECLINE_SIGNS` fewer signs or `DECLINE_HOURS` fewer active hours than in the
  first weeks, and a falling slope) in active hours *or* in signs,
  with enough days observed.

No I/O, no clock: days come from the readings' own timestamps in the household's time zone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from anbu.domain import Kind, Reading
from detectors.signs import Sign, classify

#: noisy signs (deduplicated) that make an hour active without a reliable one
NOISY_HOUR = 3
#: a fall of at least this share against the baseline, with a falling slope, is a decline:
#: in signs of life per day, or in active hours per day (coarser, so a larger fall). Chosen on
#: simulated homes (seed 7, 30 normal homes: signs -8 % to +14 %, active hours -13 % to +13 %
#: over 5 weeks; seed 21, 6 declining homes: signs -6 % to -24 %)
DECLINE_SIGNS = 0.15
DECLINE_HOURS = 0.2
#: a week counts when at least this many of its days were observed
MIN_DAYS = 4
EXIT_GAP_S = 900.0


@dataclass(slots=True)
class Day:
    signs: int = 0
    reliable: int = 0
    exits: int = 0
    #: per local hour: reliable signs, noisy signs
    hours: np.ndarray[Any, np.dtype[np.int32]] | None = None

    def active_hours(self) -> int:
        if self.hours is None:
            return 0
        return int(((self.hours[:, 0] > 0) | (self.hours[:, 1] >= NOISY_HOUR)).sum())


class DailyActivity:
    """Signs of life per household and local day, counted as the engine counts them."""

    def __init__(self, timezones: Mapping[str, str], refractory_s: float = 180.0) -> None:
        self.zones = {h: ZoneInfo(tz) for h, tz in timezones.items()}
        self.refractory_s = refractory_s
        self.days: dict[str, dict[date, Day]] = {h: {} for h in timezones}
        self._last: dict[tuple[str, str], float] = {}
        self._exit: dict[str, float] = {}

    def observe(self, readings: Iterable[Reading]) -> None:
        for r in readings:
            self.observe_one(r)

    def observe_one(self, r: Reading) -> None:
        zone = self.zones.get(r.household_id)
        if zone is None:
            return
        sign = classify(r)
        if sign == Sign.NONE:
            return
        t = r.time.timestamp()
        key = (r.household_id, r.device_id)
        last = self._last.get(key, -math.inf)
        if 0.0 <= t - last < self.refractory_s:
            return
        self._last[key] = max(t, last)
        local = datetime.fromtimestamp(t, zone)
        day = self.days[r.household_id].setdefault(local.date(), Day())
        if day.hours is None:
            day.hours = np.zeros((24, 2), dtype=np.int32)
        day.signs += 1
        reliable = sign == Sign.RELIABLE
        day.reliable += reliable
        day.hours[local.hour, 0 if reliable else 1] += 1
        if r.kind == Kind.DOOR and r.data.get("exterior") is True:
            if t - self._exit.get(r.household_id, -math.inf) >= EXIT_GAP_S:
                day.exits += 1
            self._exit[r.household_id] = t


@dataclass(frozen=True, slots=True)
class Week:
    start: date
    days: int
    signs_per_day: float
    active_hours_per_day: float
    exits: float


@dataclass(frozen=True, slots=True)
class Trend:
    household_id: str
    weeks: tuple[Week, ...]
    #: relative change of the recent weeks against the baseline weeks (-0.3 = 30 % less)
    active_hours_change: float | None
    signs_change: float | None
    #: least-squares slope per week, relative to the baseline mean
    active_hours_slope: float | None
    signs_slope: float | None
    declining: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "weeks": [{"start": w.start.isoformat(), "days": w.days,
                       "signs_per_day": w.signs_per_day,
                       "active_hours_per_day": w.active_hours_per_day,
                       "exits": w.exits} for w in self.weeks],
            "active_hours_change": self.active_hours_change,
            "signs_change": self.signs_change,
            "active_hours_slope_per_week": self.active_hours_slope,
            "signs_slope_per_week": self.signs_slope,
            "declining": self.declining,
            "text": describe(self),
        }


#: the reading kinds `classify` can count as a sign (with motion only when `value` is 1): what
#: the production job asks the database for (`detectors.trend_job`), so that one definition of
#: a sign of life decides, in `DailyActivity`, on every row it gets
SIGN_KINDS = frozenset({Kind.DOOR, Kind.CONTACT, Kind.PRESENCE, Kind.WATER, Kind.HEALTH,
                        Kind.BUTTON, Kind.MOTION, Kind.APPLIANCE})


def day_from_counts(signs: int, reliable: int, exits: int, hours_reliable: Iterable[int],
                    hours_noisy: Iterable[int]) -> Day:
    """A `Day` back from its stored counts (`activity_days`), as `DailyActivity` built it."""
    hours = np.zeros((24, 2), dtype=np.int32)
    hours[:, 0] = np.fromiter(hours_reliable, dtype=np.int32, count=24)
    hours[:, 1] = np.fromiter(hours_noisy, dtype=np.int32, count=24)
    return Day(signs, reliable, exits, hours)


def decline_reasons(tr: Trend) -> tuple[str, ...]:
    """Which measure made `weekly_trend` flag a decline: "active_hours", "signs" (empty when
    it did not), by the same rule and thresholds."""
    return tuple(name for name, c, s, share in (
        ("active_hours", tr.active_hours_change, tr.active_hours_slope, DECLINE_HOURS),
        ("signs", tr.signs_change, tr.signs_slope, DECLINE_SIGNS))
        if c is not None and s is not None and c <= -share and s < 0)


def weeks_of(days: Mapping[date, Day], first: date, last: date) -> list[Week]:
    """Weekly means (per observed day) from `first` (inclusive) in steps of 7 days through
    `last`; a week with fewer than MIN_DAYS observed days is left out. A day is observed when
    any sign was counted on it (a home with its gateway down all day is not "inactive")."""
    out = []
    start = first
    while start + timedelta(days=6) <= last:
        ds = [days[d] for k in range(7) if (d := start + timedelta(days=k)) in days]
        if len(ds) >= MIN_DAYS:
            n = len(ds)
            out.append(Week(start, n, round(sum(d.signs for d in ds) / n, 1),
                            round(sum(d.active_hours() for d in ds) / n, 2),
                            round(sum(d.exits for d in ds) * 7.0 / n, 1)))
        start += timedelta(days=7)
    return out


def _change(values: list[float], recent: int, baseline: int
            ) -> tuple[float | None, float | None]:
    """(relative change of the mean of the last `recent` values against the mean of the first
    `baseline` ones, least-squares slope per step relative to that baseline), or Nones with
    too little data."""
    if len(values) < recent + baseline:
        return None, None
    base = float(np.mean(values[:baseline]))
    if base <= 0:
        return None, None
    now = float(np.mean(values[-recent:]))
    x = np.arange(len(values), dtype=np.float64)
    slope = float(np.polyfit(x, np.asarray(values, dtype=np.float64), 1)[0])
    return round(now / base - 1.0, 3), round(slope / base, 3)


def weekly_trend(household_id: str, days: Mapping[date, Day], through: date,
                 weeks: int = 8, recent: int = 2, baseline: int = 2) -> Trend:
    """The last `weeks` whole weeks ending on `through` (inclusive) for one household: the
    last `recent` of them against the first `baseline` (how the person was then). A slow
    decline is a drift over weeks, so the baseline is the start of the window, not the weeks
    just before (which would already hold most of the drift)."""
    first = through - timedelta(days=7 * weeks - 1)
    ws = weeks_of(days, first, through)
    ah, ah_slope = _change([w.active_hours_per_day for w in ws], recent, baseline)
    sg, sg_slope = _change([w.signs_per_day for w in ws], recent, baseline)
    declining = any(c is not None and s is not None and c <= -share and s < 0
                    for c, s, share in ((ah, ah_slope, DECLINE_HOURS),
                                        (sg, sg_slope, DECLINE_SIGNS)))
    return Trend(household_id, tuple(ws), ah, sg, ah_slope, sg_slope, declining)


def report(activity: DailyActivity, through: Mapping[str, date], weeks: int = 8,
           recent: int = 2) -> dict[str, Trend]:
    """`weekly_trend` for every household, each through its own last whole day."""
    return {h: weekly_trend(h, days, through[h], weeks, recent)
            for h, days in sorted(activity.days.items()) if h in through}


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.0f} %"


def describe(tr: Trend) -> str:
    """One sentence for the planner's weekly review (Korean, then English)."""
    if tr.active_hours_change is None:
        return ("추세를 보기에 기록이 부족합니다. — Not enough weeks observed for a trend.")
    ah = tr.active_hours_change
    sg = tr.signs_change if tr.signs_change is not None else 0.0
    if tr.declining:
        return (f"최근 2주 활동이 이전보다 줄었습니다 (활동 시간 {_pct(ah)}"
                f"{' 감소' if ah < 0 else ' 증가'}, 생활 반응 {_pct(sg)}"
                f"{' 감소' if sg < 0 else ' 증가'}). 방문이나 통화로 확인해 주세요. — "
                f"Less activity in the last 2 weeks than before (active hours "
                f"{'down' if ah < 0 else 'up'} {_pct(ah)}, signs of life "
                f"{'down' if sg < 0 else 'up'} {_pct(sg)}): worth a call or a visit.")
    return (f"활동량에 뚜렷한 감소가 없습니다 (활동 시간 {ah * 100:+.0f} %). — "
            f"No sustained decline (active hours {ah * 100:+.0f} %).")

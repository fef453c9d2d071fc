"""The weekly slow-decline report in production: daily activity and weekly reports, stored.

Each run (`TrendJob.run`, called by `anbu run` every few minutes and by `anbu trend-job`):

1. for every active household, its last whole local day that is *due* — the day is over in the
   household's time zone, plus `grace` for late readings — and the report's window, the
   `weeks` whole weeks ending on it;
2. the households with a day of that window not yet stored, or whose newest report is not
   through that day (one query on the stored days, no readings);
3. for those, in batches, the missing days: their signs of life streamed from the stored
   readings (`anbu.storage.trend.sign_readings`, a server-side cursor over the batch's day
   spans, from `lookback` before each span so that a device's repeats just before midnight
   are discounted as `DailyActivity` discounts them in one pass), counted by
   `detectors.trend.DailyActivity` (the one definition of a sign of life), upserted into
   `activity_days` (a day nothing was heard on is stored with 0 signs: computed, and left
   out of the weekly means as `weeks_of` leaves such days out);
4. the weekly report (`weekly_trend`) from the stored days, upserted as the household's row
   for the week of that day (`weekly_trends`; earlier weeks stay as history).

Nothing in memory matters between runs: a restarted or second process finds the same work
in the database, upserts make a repeated run a no-op, and an advisory lock lets one process
work at a time (the other skips its round). A day already stored is not recomputed unless
asked (`recompute`): `anbu trend-job --recompute 2`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from anbu.storage import trend as store
from detectors.trend import (
    SIGN_KINDS,
    DailyActivity,
    Day,
    day_from_counts,
    decline_reasons,
    describe,
    weekly_trend,
)

log = logging.getLogger(__name__)

WEEKS = 8


def last_due_day(now: datetime, tz: ZoneInfo, grace: timedelta) -> date:
    """The last local day that is over, `grace` ago, at `now` in zone `tz`."""
    return (now.astimezone(tz) - grace).date() - timedelta(days=1)


def day_span(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A local day as UTC [start, end): 23 or 25 hours across a daylight-saving change."""
    start = datetime.combine(day, datetime.min.time(), tz)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs, in order."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if out and d == out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def day_row(household_id: str, day: date, timezone: str, d: Day | None) -> store.DayRow:
    if d is None or d.hours is None:
        zeros = (0,) * 24
        return store.DayRow(household_id, day, timezone, 0, 0, 0, 0, zeros, zeros)
    return store.DayRow(
        household_id, day, timezone, d.signs, d.reliable, d.active_hours(), d.exits,
        tuple(int(x) for x in d.hours[:, 0]), tuple(int(x) for x in d.hours[:, 1]),
    )


def days_of(rows: Iterable[store.DayRow]) -> dict[date, Day]:
    """Stored days as `weekly_trend` takes them: only days on which a sign was heard."""
    return {
        r.day: day_from_counts(r.signs, r.reliable, r.exits, r.hours_reliable, r.hours_noisy)
        for r in rows
        if r.signs > 0
    }


def report_row(household_id: str, days: Mapping[date, Day], through: date,
               weeks: int = WEEKS) -> store.ReportRow:
    tr = weekly_trend(household_id, days, through, weeks)
    d = tr.as_dict()
    return store.ReportRow(
        household_id,
        through - timedelta(days=through.weekday()),
        through,
        d["weeks"],
        tr.active_hours_change,
        tr.signs_change,
        tr.active_hours_slope,
        tr.signs_slope,
        tr.declining,
        decline_reasons(tr),
        describe(tr),
    )


@dataclass(slots=True)
class RunResult:
    households: int = 0
    #: households that had work (missing days or a stale report)
    worked: int = 0
    days: int = 0
    readings: int = 0
    reports: int = 0
    declining: int = 0
    #: another process held the lock: nothing was done
    skipped: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "households": self.households, "worked": self.worked, "days": self.days,
            "readings": self.readings, "reports": self.reports, "declining": self.declining,
            "skipped": self.skipped, "seconds": round(self.seconds, 3),
        }


@dataclass(slots=True)
class TrendJob:
    weeks: int = WEEKS
    #: a day is counted this long after it ended (late readings from a gateway's buffer)
    grace: timedelta = timedelta(hours=1)
    #: readings read before each span, so that `DailyActivity` discounts a device's repeats
    #: and a second exit within 15 min across midnight as in one continuous pass
    lookback: timedelta = timedelta(hours=1)
    #: household-days per batch (one query, one commit): a nightly run of up to this many
    #: homes in one, a catch-up of 56 days about 350 homes at a time
    batch_days: int = 20_000
    #: a batch of at least this many homes whose days span at most `scan_span` is read by
    #: one scan of that time range rather than home by home (`sign_readings(by_time=True)`)
    scan_min: int = 200
    scan_span: timedelta = timedelta(days=3)
    #: weekly reports made and stored per step (56 stored days each are held meanwhile)
    report_chunk: int = 500
    refractory_s: float = 180.0
    _zones: dict[str, ZoneInfo] = field(default_factory=dict)

    def zone(self, name: str) -> ZoneInfo:
        z = self._zones.get(name)
        if z is None:
            z = self._zones[name] = ZoneInfo(name)
        return z

    def run(
        self,
        conn: psycopg.Connection[Any],
        now: datetime,
        households: Sequence[str] | None = None,
        recompute: int = 0,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> RunResult:
        """One round (see the module's docstring); commits per batch, and stops between
        batches when `should_stop()` (the rest is done next round). `recompute` also recounts
        the last N due days of every household already stored."""
        t0 = time.perf_counter()
        res = RunResult()
        if not store.try_lock(conn):
            conn.rollback()
            res.skipped = True
            return res
        try:
            homes = store.active_households(conn, households)
            res.households = len(homes)
            through = {h: last_due_day(now, self.zone(tz), self.grace) for h, tz in homes}
            span = 7 * self.weeks
            have = store.coverage(conn, through, span)
            conn.commit()
            todo = [
                (h, tz) for h, tz in homes
                if recompute > 0 or have[h][0] < span or (have[h][1] or date.min) < through[h]
            ]
            res.worked = len(todo)
            for batch in self._batches(todo, have, span, recompute):
                if should_stop():
                    break
                self._one_batch(conn, batch, through, span, recompute, res)
        except BaseException:
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
            raise
        finally:
            # a lost connection has lost its session, and the lock with it
            with contextlib.suppress(psycopg.Error):
                store.unlock(conn)
                conn.commit()
        res.seconds = time.perf_counter() - t0
        return res

    def _batches(self, todo: list[tuple[str, str]], have: Mapping[str, tuple[int, date | None]],
                 span: int, recompute: int) -> Iterable[list[tuple[str, str]]]:
        batch: list[tuple[str, str]] = []
        cost = 0
        for h, tz in todo:
            c = max(1, span - have[h][0], min(recompute, span))
            if batch and cost + c > self.batch_days:
                yield batch
                batch, cost = [], 0
            batch.append((h, tz))
            cost += c
        if batch:
            yield batch

    def _one_batch(self, conn: psycopg.Connection[Any], batch: list[tuple[str, str]],
                   through: Mapping[str, date], span: int, recompute: int,
                   res: RunResult) -> None:
        ids = [h for h, _ in batch]
        first = {h: through[h] - timedelta(days=span - 1) for h in ids}
        stored = store.computed_days(conn, ids, min(first.values()), max(through.values()))
        wanted: dict[str, list[date]] = {}
        for h in ids:
            window = [first[h] + timedelta(days=k) for k in range(span)]
            redo = set(window[-recompute:]) if recompute > 0 else set()
            missing = [d for d in window if d not in stored[h] or d in redo]
            if missing:
                wanted[h] = missing
        tzs = dict(batch)
        if wanted:
            spans = []
            for h, days in wanted.items():
                z = self.zone(tzs[h])
                for a, b in runs(days):
                    spans.append((h, day_span(a, z)[0] - self.lookback, day_span(b, z)[1]))
            activity = DailyActivity({h: tzs[h] for h in wanted}, self.refractory_s)
            by_time = len(wanted) >= self.scan_min and (
                max(s[2] for s in spans) - min(s[1] for s in spans) <= self.scan_span)
            n = 0
            for r in store.sign_readings(conn, spans, SIGN_KINDS, by_time):
                activity.observe_one(r)
                n += 1
            res.readings += n
            rows = [day_row(h, d, tzs[h], activity.days[h].get(d))
                    for h, days in wanted.items() for d in days]
            res.days += store.save_days(conn, rows)
        for k in range(0, len(ids), self.report_chunk):
            chunk = ids[k:k + self.report_chunk]
            stored_days = store.load_days(conn, chunk, min(first[h] for h in chunk),
                                          max(through[h] for h in chunk))
            reports = [
                report_row(h, days_of(r for r in stored_days[h]
                                      if first[h] <= r.day <= through[h]),
                           through[h], self.weeks)
                for h in chunk
            ]
            res.reports += store.save_reports(conn, reports)
            res.declining += sum(r.declining for r in reports)
        conn.commit()

"""Daily activity and weekly reports in PostgreSQL (migration 0014_weekly_trend.sql).

The job (`detectors.trend_job`) reads the signs of life of a batch of households, day spans
per household, through a server-side cursor (never a whole district's readings at once),
counts them with `detectors.trend.DailyActivity`, and stores one `activity_days` row per
household and local day, then one `weekly_trends` row per household and week. Writes are
upserts, so a second run, or two processes at once, change nothing; an advisory lock keeps
two processes from doing the same work twice. The kernel does not import `detectors`: rows
travel as the plain dataclasses below.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from anbu.domain import Kind, Reading

#: pg_try_advisory_lock key of the job ("anbu" + 1)
LOCK_ID = 0x616E6276


@dataclass(frozen=True, slots=True)
class DayRow:
    household_id: str
    day: date
    timezone: str
    signs: int
    reliable: int
    active_hours: int
    exits: int
    hours_reliable: tuple[int, ...]
    hours_noisy: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ReportRow:
    household_id: str
    week: date
    through: date
    weeks: list[dict[str, Any]]
    active_hours_change: float | None
    signs_change: float | None
    active_hours_slope: float | None
    signs_slope: float | None
    declining: bool
    reasons: tuple[str, ...]
    text: str


def try_lock(conn: psycopg.Connection[Any]) -> bool:
    """Take the job's session lock if nobody holds it (release with `unlock`)."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_ID,)).fetchone()
    return bool(row and row[0])


def unlock(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))


def active_households(
    conn: psycopg.Connection[Any], only: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """(id, time zone) of the active households (of `only`, if given), by id."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT id, timezone FROM households WHERE active"
            " AND (%(only)s::text[] IS NULL OR id = ANY(%(only)s)) ORDER BY id",
            {"only": list(only) if only is not None else None},
        )
    ]


def coverage(
    conn: psycopg.Connection[Any], through: Mapping[str, date], days: int
) -> dict[str, tuple[int, date | None]]:
    """Per household: how many of its `days` days ending on its `through` are stored, and
    the last day of its newest report (None: no report yet). One query, no readings."""
    ids = list(through)
    rows = conn.execute(
        """SELECT w.hid,
                  (SELECT count(*) FROM activity_days a WHERE a.household_id = w.hid
                     AND a.day > w.through - %(days)s AND a.day <= w.through),
                  t.through
           FROM unnest(%(ids)s::text[], %(through)s::date[]) AS w(hid, through)
           LEFT JOIN weekly_trends t ON t.household_id = w.hid AND t.latest""",
        {"ids": ids, "through": [through[h] for h in ids], "days": days},
    )
    return {r[0]: (int(r[1]), r[2]) for r in rows}


def computed_days(
    conn: psycopg.Connection[Any], ids: Sequence[str], first: date, last: date
) -> dict[str, set[date]]:
    """The days from `first` through `last` already stored, per household."""
    out: dict[str, set[date]] = {h: set() for h in ids}
    for hid, day in conn.execute(
        "SELECT household_id, day FROM activity_days WHERE household_id = ANY(%s)"
        " AND day BETWEEN %s AND %s",
        (list(ids), first, last),
    ):
        out[hid].add(day)
    return out


# Two plans, chosen by the caller (the planner cannot see from an array of spans which is
# cheaper): per span, an index range scan of (household_id, time) — the cost follows the rows
# asked for, whatever the size of the table (a few homes, or many days of each); or, for one
# day of many homes (the nightly run), one scan of that time range (BRIN, or the day's chunks
# on TimescaleDB) joined to the spans, instead of a random heap visit per reading: measured on
# 1,000 homes' day, 3.7 s against 17 s.
_SIGN_COLUMNS = """r.device_id, r.kind, r.time, r.value, r.seq,
       r.kind = 'door' AND coalesce(r.data->'exterior' = 'true'::jsonb, false) AS exterior"""
_SIGN_FILTER = "r.kind = ANY(%(kinds)s) AND (r.kind <> 'motion' OR r.value = 1)"
_SPANS = """unnest(%(hids)s::text[], %(t0)s::timestamptz[], %(t1)s::timestamptz[])
     WITH ORDINALITY AS s(hid, t0, t1, n)"""
_SIGNS_PER_SPAN = f"""
SELECT s.hid, r.device_id, r.kind, r.time, r.value, r.exterior
FROM {_SPANS}
CROSS JOIN LATERAL (
    SELECT {_SIGN_COLUMNS}
    FROM readings r
    WHERE r.household_id = s.hid AND r.time >= s.t0 AND r.time < s.t1 AND {_SIGN_FILTER}
    OFFSET 0  -- keeps the subquery per span (not pulled up into one join)
) r
ORDER BY s.n, r.time, r.device_id, r.seq
"""
_SIGNS_BY_TIME = f"""
SELECT s.hid, r.device_id, r.kind, r.time, r.value, r.exterior
FROM {_SPANS}
JOIN (
    SELECT r.household_id, {_SIGN_COLUMNS}
    FROM readings r
    WHERE r.time >= %(lo)s AND r.time < %(hi)s AND {_SIGN_FILTER}
) r ON r.household_id = s.hid AND r.time >= s.t0 AND r.time < s.t1
ORDER BY s.n, r.time, r.device_id, r.seq
"""

_EXTERIOR: Mapping[str, Any] = {"exterior": True}
_NONE: Mapping[str, Any] = {}


def sign_readings(
    conn: psycopg.Connection[Any],
    spans: Sequence[tuple[str, datetime, datetime]],
    kinds: Iterable[Kind],
    by_time: bool = False,
    itersize: int = 20_000,
) -> Iterator[Reading]:
    """The readings of `kinds` (motion only when it triggered) in each (household, from,
    until) span, by household then time, streamed from a server-side cursor in chunks of
    `itersize`. Only what counting signs needs is fetched: `data` is reduced to whether a
    door is exterior. `by_time`: scan the spans' whole time range once (many households,
    a day or two) instead of each span by its household. Needs a connection not in
    autocommit (the cursor lives in its transaction)."""
    if not spans:
        return
    spans = sorted(spans, key=lambda s: (s[0], s[1]))
    kind_of = {k.value: k for k in Kind}
    params = {
        "hids": [s[0] for s in spans],
        "t0": [s[1] for s in spans],
        "t1": [s[2] for s in spans],
        "kinds": sorted(k.value for k in kinds),
        "lo": min(s[1] for s in spans),
        "hi": max(s[2] for s in spans),
    }
    # every row is read: plan for the whole result, not the first 10 % (a cursor's default)
    conn.execute("SET LOCAL cursor_tuple_fraction = 1.0")
    with conn.cursor(name="anbu_trend_signs") as cur:
        cur.itersize = itersize
        cur.execute(_SIGNS_BY_TIME if by_time else _SIGNS_PER_SPAN, params)
        for hid, dev, kind, t, value, exterior in cur:
            yield Reading(hid, dev, kind_of[kind], t, None, value, _EXTERIOR if exterior else _NONE)


_DAY_COLUMNS = (
    "household_id, day, timezone, signs, reliable, active_hours, exits, hours_reliable,"
    " hours_noisy"
)
_DAY_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS activity_days_stage
    (LIKE activity_days INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
"""
_SAVE_DAYS = f"""
INSERT INTO activity_days AS a ({_DAY_COLUMNS}, computed_at)
SELECT {_DAY_COLUMNS}, now() FROM activity_days_stage
ON CONFLICT (household_id, day) DO UPDATE SET timezone = excluded.timezone,
    signs = excluded.signs, reliable = excluded.reliable, active_hours = excluded.active_hours,
    exits = excluded.exits, hours_reliable = excluded.hours_reliable,
    hours_noisy = excluded.hours_noisy, computed_at = excluded.computed_at
"""


_ZEROS = (0,) * 24
_ZERO_ARRAY = "{" + ",".join(["0"] * 24) + "}"


def _array(xs: tuple[int, ...]) -> str:
    """An integer[] literal (psycopg's own list dumper costs more than the rest of a day's
    row; most days of a catch-up are all zeros)."""
    return _ZERO_ARRAY if xs == _ZEROS else "{" + ",".join(map(str, xs)) + "}"


def save_days(conn: psycopg.Connection[Any], rows: Sequence[DayRow]) -> int:
    """Upsert days (a recomputed day replaces the stored one): COPY into a staging table,
    then one INSERT .. ON CONFLICT (a catch-up writes 56 days per home). The caller
    commits."""
    if not rows:
        return 0
    with conn.cursor() as cur:
        cur.execute(_DAY_STAGE)
        with cur.copy(f"COPY activity_days_stage ({_DAY_COLUMNS}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row((r.household_id, r.day, r.timezone, r.signs, r.reliable,
                              r.active_hours, r.exits, _array(r.hours_reliable),
                              _array(r.hours_noisy)))
        cur.execute(_SAVE_DAYS)
        cur.execute("TRUNCATE activity_days_stage")
    return len(rows)


def load_days(
    conn: psycopg.Connection[Any], ids: Sequence[str], first: date, last: date
) -> dict[str, list[DayRow]]:
    """Stored days from `first` through `last`, per household, oldest first."""
    out: dict[str, list[DayRow]] = {h: [] for h in ids}
    for r in conn.execute(
        "SELECT household_id, day, timezone, signs, reliable, active_hours, exits,"
        " hours_reliable, hours_noisy FROM activity_days WHERE household_id = ANY(%s)"
        " AND day BETWEEN %s AND %s ORDER BY household_id, day",
        (list(ids), first, last),
    ):
        hid, day, tz, signs, reliable, active, exits, by_hour_r, by_hour_n = r
        out[hid].append(DayRow(hid, day, tz, signs, reliable, active, exits,
                               tuple(by_hour_r), tuple(by_hour_n)))
    return out


_SAVE_REPORT = """
INSERT INTO weekly_trends (household_id, week, through, weeks, active_hours_change, signs_change,
    active_hours_slope, signs_slope, declining, reasons, text, latest, computed_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false, now())
ON CONFLICT (household_id, week) DO UPDATE SET through = excluded.through,
    weeks = excluded.weeks, active_hours_change = excluded.active_hours_change,
    signs_change = excluded.signs_change, active_hours_slope = excluded.active_hours_slope,
    signs_slope = excluded.signs_slope, declining = excluded.declining,
    reasons = excluded.reasons, text = excluded.text, computed_at = excluded.computed_at
"""

# the newest week of each household is its `latest`; first clear, then set (the partial
# unique index admits one latest row per household at every moment)
_CLEAR_LATEST = """
UPDATE weekly_trends w SET latest = false
FROM (SELECT household_id, max(week) AS week FROM weekly_trends
      WHERE household_id = ANY(%(ids)s) GROUP BY household_id) m
WHERE w.household_id = m.household_id AND w.latest AND w.week <> m.week
"""
_SET_LATEST = """
UPDATE weekly_trends w SET latest = true
FROM (SELECT household_id, max(week) AS week FROM weekly_trends
      WHERE household_id = ANY(%(ids)s) GROUP BY household_id) m
WHERE w.household_id = m.household_id AND w.week = m.week AND NOT w.latest
"""


def save_reports(conn: psycopg.Connection[Any], rows: Sequence[ReportRow]) -> int:
    """Upsert the reports (one per household and week) and mark each household's newest
    week as its latest. The caller commits."""
    if not rows:
        return 0
    with conn.cursor() as cur:
        cur.executemany(
            _SAVE_REPORT,
            [
                (r.household_id, r.week, r.through, Jsonb(r.weeks), r.active_hours_change,
                 r.signs_change, r.active_hours_slope, r.signs_slope, r.declining,
                 list(r.reasons), r.text)
                for r in rows
            ],
        )
        ids = {"ids": sorted({r.household_id for r in rows})}
        cur.execute(_CLEAR_LATEST, ids)
        cur.execute(_SET_LATEST, ids)
    return len(rows)


_REPORT_COLUMNS = (
    "household_id, week, through, weeks, active_hours_change, signs_change,"
    " active_hours_slope, signs_slope, declining, reasons, text, latest, computed_at"
)


def reports(
    conn: psycopg.Connection[Any], household_id: str, limit: int = 1
) -> list[dict[str, Any]]:
    """A household's weekly reports, newest week first (the first is the latest)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"SELECT {_REPORT_COLUMNS} FROM weekly_trends WHERE household_id = %s"
            " ORDER BY week DESC LIMIT %s",
            (household_id, limit),
        ).fetchall()

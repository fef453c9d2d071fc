"""`anbu bench trend`: the daily trend job for a district of simulated homes.

N homes (the demo district's) get `days` days of simulated readings, stored as the ingester
stores them, ending at 02:00 in Seoul today (so yesterday is a whole, due day). Then, timed:

- `catchup_s`: the first run as of a day earlier (every home's 8 weeks of days, nearly all
  without readings, and every report);
- `day_s`: the daily run: yesterday's activity for every home, read from the readings, and
  every weekly report refreshed; `day_readings` is how many sign readings it streamed;
- `idle_s`: the same run again, with nothing to do (what `anbu run` pays every few minutes).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from anbu.storage.db import connect, recreate_database
from detectors.trend_job import TrendJob


def run(households: int, days: float, seed: int, admin_url: str) -> dict[str, Any]:
    from dashboard.sample import seed_sample

    db = recreate_database(admin_url, "anbu_bench_trend")
    seoul = ZoneInfo("Asia/Seoul")
    now = datetime.now(seoul).replace(hour=2, minute=0, second=0, microsecond=0)
    t0 = time.perf_counter()
    with connect(db) as conn:
        seed_sample(conn, households, now, history=households, days=days, seed_value=seed)
        stored = conn.execute("SELECT count(*) FROM readings").fetchone()
    seed_s = time.perf_counter() - t0
    job = TrendJob()
    with connect(db) as conn:
        catchup = job.run(conn, now - timedelta(days=1))
        day = job.run(conn, now)
        idle = job.run(conn, now)
    return {
        "households": households,
        "days_of_readings": days,
        "readings": stored[0] if stored else 0,
        "seed_s": round(seed_s, 1),
        "catchup_s": round(catchup.seconds, 3),
        "catchup_days": catchup.days,
        "day_s": round(day.seconds, 3),
        "day_days": day.days,
        "day_readings": day.readings,
        "day_ms_per_household": round(1000 * day.seconds / households, 3),
        "idle_s": round(idle.seconds, 3),
        "reports": day.reports,
    }

"""SQL for the dashboard's pages: the board of households, and one household's page.

Every query that lists households takes the caller's scope (`accounts.SCOPE`); the single
household queries assume the caller has checked `accounts.can_see` first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from anbu.contract import PERSON_KINDS
from anbu.storage.accounts import SCOPE

SIGN_KINDS = sorted(k.value for k in PERSON_KINDS)

_BOARD = f"""
SELECT h.id, h.display_name, h.dong, h.risk_level, s.display_name AS planner_name,
       d.last_sign_at, d.state AS presence,
       a.person_rank, a.device_alerts, a.open_alerts, aw.reason AS away_reason,
       coalesce(t.declining, false) AS declining
FROM households h
LEFT JOIN assignments p ON p.household_id = h.id AND p.role = 'primary' AND p.ended_at IS NULL
LEFT JOIN staff s ON s.id = p.staff_id
LEFT JOIN detector_state d ON d.household_id = h.id
LEFT JOIN weekly_trends t ON t.household_id = h.id AND t.latest
LEFT JOIN (
    SELECT household_id,
           max(CASE WHEN kind LIKE 'device.%%' OR suppressed_by IS NOT NULL THEN 0
                    WHEN severity = 'danger' THEN 3 WHEN severity = 'alarm' THEN 2
                    ELSE 1 END) AS person_rank,
           count(*) FILTER (WHERE kind LIKE 'device.%%') AS device_alerts,
           count(*) AS open_alerts
    FROM alerts WHERE state <> 'resolved' GROUP BY household_id
) a ON a.household_id = h.id
LEFT JOIN LATERAL (
    SELECT reason FROM suppressions x
    WHERE x.household_id = h.id AND x.reason IN ('away', 'hospital')
      AND x.starts_at <= %(now)s AND (x.ends_at IS NULL OR x.ends_at > %(now)s)
    ORDER BY x.starts_at DESC LIMIT 1
) aw ON true
WHERE h.active AND {SCOPE}
  AND (%(hid)s::text IS NULL OR h.id = %(hid)s)
  AND (%(dong)s::text IS NULL OR h.dong = %(dong)s)
  AND (%(planner)s::text IS NULL OR EXISTS (
        SELECT 1 FROM assignments q WHERE q.household_id = h.id AND q.staff_id = %(planner)s
        AND q.ended_at IS NULL))
  AND (%(risk)s::text IS NULL OR h.risk_level = %(risk)s)
  AND (NOT %(declining)s OR t.declining)
  AND (%(q)s::text IS NULL OR h.display_name ILIKE %(q)s OR h.id ILIKE %(q)s
       OR h.address ILIKE %(q)s OR h.dong ILIKE %(q)s)
ORDER BY coalesce(a.person_rank, 0) DESC, coalesce(a.device_alerts, 0) > 0 DESC,
         d.last_sign_at ASC NULLS FIRST, h.id COLLATE "C"
"""


def board_rows(
    conn: psycopg.Connection[Any],
    scope: dict[str, Any],
    now: datetime,
    *,
    household_id: str | None = None,
    dong: str | None = None,
    planner: str | None = None,
    risk: str | None = None,
    search: str | None = None,
    declining: bool = False,
) -> list[dict[str, Any]]:
    """Households in scope with what the board shows, most urgent first; with `declining`,
    only those whose latest weekly report shows a slow decline (`weekly_trends`)."""
    q = None
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        q = f"%{escaped}%"
    params = {
        **scope,
        "now": now,
        "hid": household_id,
        "dong": dong,
        "planner": planner,
        "risk": risk,
        "q": q,
        "declining": declining,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_BOARD, params).fetchall()


def filter_choices(conn: psycopg.Connection[Any], scope: dict[str, Any]) -> dict[str, Any]:
    """The 동 and planners that occur among the households in scope (for the filter menus)."""
    dongs = [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT h.dong FROM households h WHERE h.active AND {SCOPE}"
            " AND h.dong <> '' ORDER BY 1",
            scope,
        )
    ]
    planners = conn.execute(
        f"""SELECT DISTINCT s.id, s.display_name FROM households h
            JOIN assignments a ON a.household_id = h.id AND a.ended_at IS NULL
            JOIN staff s ON s.id = a.staff_id
            WHERE h.active AND {SCOPE} ORDER BY s.display_name""",
        scope,
    ).fetchall()
    return {"dongs": dongs, "planners": [(r[0], r[1]) for r in planners]}


def signs_since(
    conn: psycopg.Connection[Any], scope: dict[str, Any], since: datetime
) -> dict[str, datetime]:
    """Households in scope whose last sign of life is later than `since`, with it."""
    rows = conn.execute(
        f"""SELECT h.id, d.last_sign_at FROM households h
            JOIN detector_state d ON d.household_id = h.id
            WHERE h.active AND d.last_sign_at > %(since)s AND {SCOPE}""",
        {**scope, "since": since},
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def visible_ids(conn: psycopg.Connection[Any], scope: dict[str, Any]) -> set[str]:
    return {r[0] for r in conn.execute(f"SELECT h.id FROM households h WHERE {SCOPE}", scope)}


# -- one household --------------------------------------------------------------------------


def profile(conn: psycopg.Connection[Any], household_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT h.id, h.district_id, dt.name_ko AS district_ko, dt.name_en AS district_en,
                      h.dong, h.display_name, h.address, h.phone, h.birth_year, h.risk_level,
                      h.consent_monitoring, h.consent_emergency_share, h.consent_recorded_at,
                      h.monitoring_profile, h.timezone,
                      d.last_sign_at, d.last_heard_at, d.state AS presence
               FROM households h JOIN districts dt ON dt.id = h.district_id
               LEFT JOIN detector_state d ON d.household_id = h.id
               WHERE h.id = %s""",
            (household_id,),
        ).fetchone()


def planners(conn: psycopg.Connection[Any], household_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT a.role, s.id, s.display_name, s.phone FROM assignments a"
            " JOIN staff s ON s.id = a.staff_id WHERE a.household_id = %s"
            " AND a.ended_at IS NULL ORDER BY a.role DESC",
            (household_id,),
        ).fetchall()


def devices(conn: psycopg.Connection[Any], household_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT d.id, d.kind, d.room, d.exterior, d.label, d.provisional,
                      s.online, s.battery_pct, s.rssi_dbm, s.firmware, s.status_at,
                      (SELECT max(r.time) FROM readings r
                       WHERE r.household_id = d.household_id AND r.device_id = d.id
                         AND r.time > now() - interval '30 days') AS last_message_at
               FROM devices d
               LEFT JOIN device_status s ON s.household_id = d.household_id AND s.device_id = d.id
               WHERE d.household_id = %s ORDER BY d.room, d.id""",
            (household_id,),
        ).fetchall()


def timeline(
    conn: psycopg.Connection[Any], household_id: str, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Signs of life between `since` and `until`, with the room of the device."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT r.time, r.kind, r.device_id, coalesce(nullif(d.room, ''), r.device_id) AS room
               FROM readings r LEFT JOIN devices d
                 ON d.household_id = r.household_id AND d.id = r.device_id
               WHERE r.household_id = %s AND r.time >= %s AND r.time <= %s
                 AND r.kind = ANY(%s) AND (r.kind <> 'motion' OR r.value > 0)
               ORDER BY r.time LIMIT 20000""",
            (household_id, since, until, SIGN_KINDS),
        ).fetchall()


def hourly_signs(
    conn: psycopg.Connection[Any], household_id: str, since: datetime, until: datetime, tz: str
) -> list[tuple[datetime, int]]:
    """Signs of life per local hour (for the rhythm heatmap)."""
    rows = conn.execute(
        """SELECT date_trunc('hour', r.time AT TIME ZONE %s) AS hour, count(*)
           FROM readings r
           WHERE r.household_id = %s AND r.time >= %s AND r.time <= %s
             AND r.kind = ANY(%s) AND (r.kind <> 'motion' OR r.value > 0)
           GROUP BY 1 ORDER BY 1""",
        (tz, household_id, since, until, SIGN_KINDS),
    ).fetchall()
    return [(r[0], int(r[1])) for r in rows]


def power(
    conn: psycopg.Connection[Any], household_id: str, since: datetime, until: datetime
) -> list[tuple[datetime, float]]:
    """Mean power (W, the `w` field) per 15 minutes."""
    rows = conn.execute(
        """SELECT to_timestamp(floor(extract(epoch FROM r.time) / 900) * 900) AS slot,
                  avg((r.data->>'w')::double precision)
           FROM readings r
           WHERE r.household_id = %s AND r.kind = 'power' AND r.time >= %s AND r.time <= %s
             AND r.data ? 'w'
           GROUP BY 1 ORDER BY 1""",
        (household_id, since, until),
    ).fetchall()
    return [(r[0], float(r[1])) for r in rows if r[1] is not None]


def health(
    conn: psycopg.Connection[Any], household_id: str, since: datetime
) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT time, device_id, data FROM readings
               WHERE household_id = %s AND kind = 'health' AND time >= %s
               ORDER BY time LIMIT 5000""",
            (household_id, since),
        ).fetchall()


def alert_history(
    conn: psycopg.Connection[Any], household_id: str, limit: int = 50
) -> list[dict[str, Any]]:
    """Alerts of the household, newest first, each with its staff notes and hand-offs."""
    with conn.cursor(row_factory=dict_row) as cur:
        alerts = cur.execute(
            """SELECT id, kind, severity, state, opened_at, updated_at, explanation,
                      acknowledged_by, acknowledged_at, resolved_by, resolved_at, outcome,
                      escalation_step, suppressed_by
               FROM alerts WHERE household_id = %s ORDER BY opened_at DESC LIMIT %s""",
            (household_id, limit),
        ).fetchall()
        ids = [a["id"] for a in alerts]
        notes = cur.execute(
            """SELECT e.alert_id, e.at, coalesce(s.display_name, e.actor) AS actor, e.detail
               FROM alert_events e LEFT JOIN staff s ON s.id = e.actor
               WHERE e.alert_id = ANY(%s) AND e.action IN ('note', 'resolved')
               ORDER BY e.at""",
            (ids,),
        ).fetchall()
        handoffs = cur.execute(
            """SELECT h.alert_id, h.handed_at, s.display_name AS to_name,
                      coalesce(b.display_name, h.handed_by) AS by_name
               FROM alert_handoffs h JOIN staff s ON s.id = h.staff_id
               LEFT JOIN staff b ON b.id = h.handed_by
               WHERE h.alert_id = ANY(%s) ORDER BY h.handed_at""",
            (ids,),
        ).fetchall()
    by_alert: dict[int, list[dict[str, Any]]] = {}
    for n in notes:
        text = (n["detail"] or {}).get("note") or (n["detail"] or {}).get("text")
        if text:
            by_alert.setdefault(n["alert_id"], []).append({**n, "text": text})
    handed: dict[int, list[dict[str, Any]]] = {}
    for h in handoffs:
        handed.setdefault(h["alert_id"], []).append(h)
    for a in alerts:
        a["notes"] = by_alert.get(a["id"], [])
        a["handoffs"] = handed.get(a["id"], [])
    return alerts


def field_workers(conn: psycopg.Connection[Any], district_id: str) -> list[tuple[str, str]]:
    """Field workers an alert of this district can be handed to."""
    rows = conn.execute(
        "SELECT id, display_name FROM staff WHERE role = 'field_worker' AND active"
        " AND (district_id = %s OR district_id IS NULL) ORDER BY display_name",
        (district_id,),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def away_windows(
    conn: psycopg.Connection[Any], household_id: str, now: datetime
) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT id, reason, starts_at, ends_at, note, created_by FROM suppressions
               WHERE household_id = %s AND (ends_at IS NULL OR ends_at > %s)
               ORDER BY starts_at""",
            (household_id, now),
        ).fetchall()


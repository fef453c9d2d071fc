"""SQL for staff accounts, sessions, the access log, and who may see which household."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: str
    username: str
    display_name: str
    role: str
    district_id: str | None
    locale: str


def staff_by_username(
    conn: psycopg.Connection[Any], username: str
) -> tuple[StaffMember, str | None] | None:
    row = conn.execute(
        "SELECT id, username, display_name, role, district_id, locale, password_hash"
        " FROM staff WHERE username = %s AND active",
        (username,),
    ).fetchone()
    return (StaffMember(*row[:6]), row[6]) if row else None


def set_password_hash(conn: psycopg.Connection[Any], staff_id: str, password_hash: str) -> None:
    conn.execute("UPDATE staff SET password_hash = %s WHERE id = %s", (password_hash, staff_id))


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def create_session(
    conn: psycopg.Connection[Any],
    token: str,
    staff_id: str,
    csrf: str,
    expires_at: datetime,
    ip: str,
    user_agent: str,
) -> None:
    conn.execute(
        "INSERT INTO sessions (token_hash, staff_id, csrf_token, expires_at, ip, user_agent)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (_hash(token), staff_id, csrf, expires_at, ip, user_agent[:200]),
    )


def session(
    conn: psycopg.Connection[Any], token: str, now: datetime
) -> tuple[StaffMember, str] | None:
    """The staff member and CSRF token of a live session."""
    row = conn.execute(
        "SELECT s.id, s.username, s.display_name, s.role, s.district_id, s.locale, x.csrf_token"
        " FROM sessions x JOIN staff s ON s.id = x.staff_id"
        " WHERE x.token_hash = %s AND x.expires_at > %s AND s.active",
        (_hash(token), now),
    ).fetchone()
    return (StaffMember(*row[:6]), row[6]) if row else None


def end_session(conn: psycopg.Connection[Any], token: str) -> None:
    conn.execute("DELETE FROM sessions WHERE token_hash = %s", (_hash(token),))


def log_access(
    conn: psycopg.Connection[Any],
    staff_id: str,
    action: str,
    path: str,
    ip: str,
    household_id: str | None = None,
    alert_id: int | None = None,
) -> None:
    conn.execute(
        "INSERT INTO access_log (staff_id, action, household_id, alert_id, path, ip)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (staff_id, action, household_id, alert_id, path, ip),
    )


#: households a staff member may see (parameters: role, district, sid). Planners: the homes
#: they are primary or backup for; monitoring staff and team leads: their district; field
#: workers: homes with an unresolved alert handed to them; admins: all.
SCOPE = """(
    %(role)s = 'admin'
    OR (%(role)s IN ('monitoring', 'team_lead') AND h.district_id = %(district)s)
    OR (%(role)s = 'planner' AND EXISTS (
        SELECT 1 FROM assignments a WHERE a.household_id = h.id AND a.staff_id = %(sid)s
        AND a.ended_at IS NULL))
    OR (%(role)s = 'field_worker' AND EXISTS (
        SELECT 1 FROM alert_handoffs ho JOIN alerts al ON al.id = ho.alert_id
        WHERE al.household_id = h.id AND ho.staff_id = %(sid)s AND al.state <> 'resolved'))
)"""


def scope_params(s: StaffMember) -> dict[str, Any]:
    return {"role": s.role, "district": s.district_id, "sid": s.id}


def can_see(conn: psycopg.Connection[Any], s: StaffMember, household_id: str) -> bool:
    row = conn.execute(
        f"SELECT 1 FROM households h WHERE h.id = %(hid)s AND {SCOPE}",
        {**scope_params(s), "hid": household_id},
    ).fetchone()
    return row is not None


def record_login(
    conn: psycopg.Connection[Any], username: str, ip: str, ok: bool, at: datetime
) -> None:
    conn.execute(
        "INSERT INTO login_attempts (at, username, ip, ok) VALUES (%s, %s, %s, %s)",
        (at, username[:64], ip, ok),
    )


def failed_logins(
    conn: psycopg.Connection[Any], username: str, since: datetime
) -> tuple[int, datetime | None]:
    """Failures for `username` since `since` and since its last success; and the latest one."""
    row = conn.execute(
        """SELECT count(*), max(at) FROM login_attempts
           WHERE username = %(u)s AND NOT ok AND at >= %(since)s
             AND at > coalesce((SELECT max(at) FROM login_attempts
                                WHERE username = %(u)s AND ok), '-infinity')""",
        {"u": username[:64], "since": since},
    ).fetchone()
    return (int(row[0]), row[1]) if row else (0, None)


def access_history(
    conn: psycopg.Connection[Any], household_id: str, limit: int = 100
) -> list[dict[str, Any]]:
    """Who saw or acted on a household's data, newest first (for audits under PIPA)."""
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT l.at, l.staff_id, coalesce(s.display_name, l.staff_id) AS staff_name,
                      s.role, l.action, l.alert_id, l.ip
               FROM access_log l LEFT JOIN staff s ON s.id = l.staff_id
               WHERE l.household_id = %s ORDER BY l.at DESC, l.id DESC LIMIT %s""",
            (household_id, limit),
        ).fetchall()

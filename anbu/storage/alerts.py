"""SQL for alerts, their audit trail, suppressions, channels and the outbox.

The caller owns the transaction: an alert change, its audit events and its outbox rows are
written together and committed together, so a crash can lose none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from alerts.model import Alert, AlertEvent, Outcome, State
from alerts.routing import Assignment
from anbu.domain import Severity
from anbu.storage.policies import parse_plan

_ALERT_COLS = (
    "id, household_id, kind, severity, state, opened_at, updated_at, explanation, evidence,"
    " acknowledged_at, acknowledged_by, resolved_at, resolved_by, outcome, escalation_step,"
    " escalation_severity, escalation_started_at, last_notified_at, escalation_policy,"
    " check_in_failed_at"
)


def _alert(r: dict[str, Any]) -> Alert:
    return Alert(
        id=r["id"],
        household_id=r["household_id"],
        kind=r["kind"],
        severity=Severity.parse(r["severity"]),
        state=State(r["state"]),
        opened_at=r["opened_at"],
        updated_at=r["updated_at"],
        explanation=r["explanation"],
        evidence=r["evidence"],
        acknowledged_at=r["acknowledged_at"],
        acknowledged_by=r["acknowledged_by"],
        resolved_at=r["resolved_at"],
        resolved_by=r["resolved_by"],
        outcome=Outcome(r["outcome"]) if r["outcome"] else None,
        escalation_step=r["escalation_step"],
        escalation_severity=(
            Severity.parse(r["escalation_severity"]) if r["escalation_severity"] else None
        ),
        escalation_started_at=r["escalation_started_at"],
        last_notified_at=r["last_notified_at"],
        policy=(
            parse_plan(r["escalation_policy"], f"alert {r['id']}")
            if r["escalation_policy"] is not None
            else None
        ),
        check_in_failed_at=r["check_in_failed_at"],
    )


def load_active(conn: psycopg.Connection[Any], household_id: str, kind: str) -> Alert | None:
    """The active alert with this identity, locked for the rest of the transaction."""
    with conn.cursor(row_factory=dict_row) as cur:
        r = cur.execute(
            f"SELECT {_ALERT_COLS} FROM alerts WHERE household_id = %s AND kind = %s"
            " AND state <> 'resolved' FOR UPDATE",
            (household_id, kind),
        ).fetchone()
    return _alert(r) if r else None


def load(conn: psycopg.Connection[Any], alert_id: int, lock: bool = False) -> Alert | None:
    with conn.cursor(row_factory=dict_row) as cur:
        r = cur.execute(
            f"SELECT {_ALERT_COLS} FROM alerts WHERE id = %s" + (" FOR UPDATE" if lock else ""),
            (alert_id,),
        ).fetchone()
    return _alert(r) if r else None


def active(
    conn: psycopg.Connection[Any],
    household_id: str | None = None,
    notifiable_only: bool = False,
    ids: Sequence[int] | None = None,
) -> list[Alert]:
    """Active alerts (optionally one household's, or these ids); notifiable_only leaves out
    suppressed ones."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {_ALERT_COLS} FROM alerts WHERE state <> 'resolved'"
            " AND (%(h)s::text IS NULL OR household_id = %(h)s)"
            " AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s))"
            " AND (NOT %(n)s OR suppressed_by IS NULL) ORDER BY id",
            {"h": household_id, "n": notifiable_only, "ids": None if ids is None else list(ids)},
        ).fetchall()
    return [_alert(r) for r in rows]


def gateway(conn: psycopg.Connection[Any], household_id: str) -> str | None:
    """The household's gateway device, which carries check-in prompts to the resident."""
    row = conn.execute(
        "SELECT device_id FROM device_status WHERE household_id = %s"
        " AND role = 'gateway' ORDER BY status_at DESC LIMIT 1",
        (household_id,),
    ).fetchone()
    return str(row[0]) if row else None


def save(conn: psycopg.Connection[Any], a: Alert, suppressed_by: str | None = None) -> int:
    """Insert or update; returns the alert's id."""
    values = {
        "household_id": a.household_id,
        "kind": a.kind,
        "severity": a.severity.label,
        "state": a.state.value,
        "opened_at": a.opened_at,
        "updated_at": a.updated_at,
        "explanation": a.explanation,
        "evidence": Jsonb(dict(a.evidence)),
        "acknowledged_at": a.acknowledged_at,
        "acknowledged_by": a.acknowledged_by,
        "resolved_at": a.resolved_at,
        "resolved_by": a.resolved_by,
        "outcome": a.outcome.value if a.outcome else None,
        "escalation_step": a.escalation_step,
        "escalation_severity": a.escalation_severity.label if a.escalation_severity else None,
        "escalation_started_at": a.escalation_started_at,
        "last_notified_at": a.last_notified_at,
        "escalation_policy": Jsonb(a.policy.model_dump(mode="json")) if a.policy else None,
        "check_in_failed_at": a.check_in_failed_at,
        "suppressed_by": suppressed_by,
    }
    if a.id is None:
        cols = ", ".join(values)
        row = conn.execute(
            f"INSERT INTO alerts ({cols}) VALUES ({', '.join('%(' + k + ')s' for k in values)})"
            " RETURNING id",
            values,
        ).fetchone()
        assert row is not None
        return int(row[0])
    values.pop("suppressed_by")
    sets = ", ".join(f"{k} = %({k})s" for k in values)
    conn.execute(f"UPDATE alerts SET {sets} WHERE id = %(id)s", {**values, "id": a.id})
    return a.id


def append_events(
    conn: psycopg.Connection[Any], alert_id: int, events: Iterable[AlertEvent]
) -> list[int]:
    ids = []
    for e in events:
        row = conn.execute(
            "INSERT INTO alert_events (alert_id, at, actor, action, from_state, to_state,"
            " severity, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                alert_id,
                e.at,
                e.actor,
                e.action,
                e.from_state.value if e.from_state else None,
                e.to_state.value,
                e.severity.label,
                Jsonb(dict(e.detail)),
            ),
        ).fetchone()
        assert row is not None
        ids.append(int(row[0]))
    return ids


def events(conn: psycopg.Connection[Any], alert_id: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM alert_events WHERE alert_id = %s ORDER BY id", (alert_id,)
        ).fetchall()


def suppression(conn: psycopg.Connection[Any], household_id: str, at: datetime) -> str | None:
    """The reason an alert for this household is suppressed at `at`, if any."""
    row = conn.execute(
        "SELECT reason FROM suppressions WHERE household_id = %s AND starts_at <= %s"
        " AND (ends_at IS NULL OR ends_at > %s) ORDER BY starts_at DESC LIMIT 1",
        (household_id, at, at),
    ).fetchone()
    return str(row[0]) if row else None


def assignment(conn: psycopg.Connection[Any], household_id: str) -> Assignment:
    row = conn.execute(
        """SELECT (SELECT staff_id FROM assignments WHERE household_id = h.id
                   AND role = 'primary' AND ended_at IS NULL),
                  (SELECT staff_id FROM assignments WHERE household_id = h.id
                   AND role = 'backup' AND ended_at IS NULL),
                  (SELECT id FROM staff WHERE role = 'team_lead' AND active
                   AND district_id = h.district_id ORDER BY id LIMIT 1)
           FROM households h WHERE h.id = %s""",
        (household_id,),
    ).fetchone()
    return Assignment(*row) if row else Assignment(None)


def channels(
    conn: psycopg.Connection[Any], targets: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {t: [] for t in targets}
    for staff_id, channel, address in conn.execute(
        "SELECT staff_id, channel, address FROM staff_channels WHERE enabled"
        " AND staff_id = ANY(%s) ORDER BY id",
        (list(targets),),
    ):
        out[staff_id].append((channel, address))
    return out


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    alert_id: int
    channel: str
    recipient: str
    address: str
    payload: dict[str, Any]
    idempotency_key: str
    attempts: int
    created_at: datetime


def enqueue(
    conn: psycopg.Connection[Any],
    alert_id: int,
    channel: str,
    recipient: str,
    address: str,
    payload: dict[str, Any],
    key: str,
    now: datetime,
) -> None:
    conn.execute(
        "INSERT INTO outbox (alert_id, channel, recipient, address, payload, idempotency_key,"
        " next_attempt_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (idempotency_key) DO NOTHING",
        (alert_id, channel, recipient, address, Jsonb(payload), key, now, now),
    )
    # wakes the outbox workers when this transaction commits (collapsed to one per transaction)
    conn.execute("NOTIFY anbu_outbox")


def claim_due(conn: psycopg.Connection[Any], now: datetime, limit: int = 100) -> list[OutboxRow]:
    """Pending deliveries that are due, locked so that concurrent workers take different ones."""
    rows = conn.execute(
        "SELECT id, alert_id, channel, recipient, address, payload, idempotency_key, attempts,"
        " created_at"
        " FROM outbox WHERE status = 'pending' AND next_attempt_at <= %s"
        " ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
        (now, limit),
    ).fetchall()
    return [OutboxRow(*r) for r in rows]


@dataclass(frozen=True, slots=True)
class Attempt:
    row: OutboxRow
    ok: bool
    error: str | None
    duration_ms: float
    #: for a failure: when to try again, or None to give up
    retry_at: datetime | None


def record_attempts(
    conn: psycopg.Connection[Any], at: datetime, attempts: Sequence[Attempt]
) -> list[Attempt]:
    """Record delivery attempts and move their outbox rows on, in two statements.

    Returns the attempts whose rows this call marked failed (pending -> failed happens once per
    row), for the caller to record and escalate in the same transaction."""
    if not attempts:
        return []
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO delivery_attempts (outbox_id, at, ok, error, duration_ms)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(a.row.id, at, a.ok, a.error, a.duration_ms) for a in attempts],
        )
        cur.execute(
            """UPDATE outbox o SET
                   attempts = o.attempts + 1,
                   status = CASE WHEN u.ok THEN 'sent'
                                 WHEN u.retry_at IS NULL THEN 'failed' ELSE 'pending' END,
                   sent_at = CASE WHEN u.ok THEN %s ELSE NULL END,
                   last_error = u.error,
                   next_attempt_at = coalesce(u.retry_at, o.next_attempt_at)
               FROM unnest(%s::bigint[], %s::boolean[], %s::text[], %s::timestamptz[])
                    AS u(id, ok, error, retry_at)
               WHERE o.id = u.id AND o.status = 'pending'
               RETURNING o.id, o.status""",
            (
                at,
                [a.row.id for a in attempts],
                [a.ok for a in attempts],
                [a.error for a in attempts],
                [a.retry_at for a in attempts],
            ),
        )
        failed = {int(r[0]) for r in cur.fetchall() if r[1] == "failed"}
    return [a for a in attempts if a.row.id in failed]


def deliveries(
    conn: psycopg.Connection[Any], alert_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """Per alert, its deliveries (outbox rows), ordered by id: what the dashboard shows.

    Every alert asked about has an entry (an empty list: nothing was sent for it, e.g. while
    suppressed). Addresses and payloads stay out: a webhook URL may carry a token."""
    out: dict[int, list[dict[str, Any]]] = {int(i): [] for i in alert_ids}
    if not out:
        return out
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT alert_id, id, channel, recipient, status, attempts, last_error, created_at,"
            " sent_at FROM outbox WHERE alert_id = ANY(%s) ORDER BY id",
            (list(out),),
        ).fetchall()
    for r in rows:
        out[r.pop("alert_id")].append(r)
    return out


def next_outbox_at(conn: psycopg.Connection[Any]) -> datetime | None:
    row = conn.execute(
        "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'"
    ).fetchone()
    return row[0] if row else None


def list_in_scope(
    conn: psycopg.Connection[Any],
    scope: dict[str, Any],
    *,
    state: str | None = None,
    severity: str | None = None,
    household_id: str | None = None,
    active_only: bool = True,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Alerts of households the staff member may see, most severe and oldest first."""
    from anbu.storage.accounts import SCOPE

    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"""SELECT a.id, a.household_id, h.display_name, h.dong, a.kind, a.severity,
                       a.state, a.opened_at, a.updated_at, a.explanation, a.escalation_step,
                       a.acknowledged_by, a.acknowledged_at, a.outcome, a.suppressed_by
                FROM alerts a JOIN households h ON h.id = a.household_id
                WHERE {SCOPE}
                  AND (NOT %(active)s OR a.state <> 'resolved')
                  AND (%(state)s::text IS NULL OR a.state = %(state)s)
                  AND (%(sev)s::text IS NULL OR a.severity = %(sev)s)
                  AND (%(hid)s::text IS NULL OR a.household_id = %(hid)s)
                ORDER BY CASE a.severity WHEN 'danger' THEN 0 WHEN 'alarm' THEN 1 ELSE 2 END,
                         a.opened_at
                LIMIT %(limit)s""",
            {
                **scope,
                "active": active_only,
                "state": state,
                "sev": severity,
                "hid": household_id,
                "limit": limit,
            },
        ).fetchall()


def handoff(conn: psycopg.Connection[Any], alert_id: int, staff_id: str, by: str) -> None:
    conn.execute(
        "INSERT INTO alert_handoffs (alert_id, staff_id, handed_by) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (alert_id, staff_id, by),
    )

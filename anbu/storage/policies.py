"""SQL for escalation policies per district and severity, and their change history.

A district's plan for a severity is its own row, else the service-wide default row (district
NULL), else the built-in policy the service was started with. Every change is recorded by a
database trigger in `escalation_policy_changes` (append-only), with the actor this module sets
for the transaction. The caller owns the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from alerts.policy import EscalationPlan
from anbu.domain import Severity

log = logging.getLogger(__name__)

DEFAULT = "default"  # the source name of the service-wide default row


@dataclass(frozen=True, slots=True)
class StoredPlan:
    plan: EscalationPlan
    #: where it came from: "district:<id>" or "default"
    source: str
    updated_by: str
    updated_at: datetime


def source_name(district_id: str | None) -> str:
    return DEFAULT if district_id is None else f"district:{district_id}"


def parse_plan(raw: Any, where: str) -> EscalationPlan | None:
    """A stored plan, or None when it no longer validates (then the fallback applies: an alert
    is never lost to a bad policy row); logged, so that an operator can fix it."""
    try:
        return EscalationPlan.model_validate(raw)
    except ValidationError as e:
        log.error("ignoring the invalid escalation plan of %s: %s", where, e)
        return None


def for_household(
    conn: psycopg.Connection[Any], household_id: str, severity: Severity
) -> StoredPlan | None:
    """The stored plan for the household's district and this severity (the district's own,
    else the service-wide default), or None: the built-in policy applies."""
    rows = conn.execute(
        "SELECT p.district_id, p.plan, p.updated_by, p.updated_at FROM households h"
        " JOIN escalation_policies p ON p.severity = %s"
        " AND (p.district_id = h.district_id OR p.district_id IS NULL)"
        " WHERE h.id = %s ORDER BY p.district_id NULLS LAST",
        (severity.label, household_id),
    ).fetchall()
    for district_id, raw, by, at in rows:
        src = source_name(district_id)
        plan = parse_plan(raw, f"{src}/{severity.label}")
        if plan is not None:
            return StoredPlan(plan, src, by, at)
    return None


def stored(conn: psycopg.Connection[Any], district_id: str | None) -> dict[Severity, StoredPlan]:
    """The rows of exactly this district (None: the service-wide default), by severity."""
    out = {}
    for sev, raw, by, at in conn.execute(
        "SELECT severity, plan, updated_by, updated_at FROM escalation_policies"
        " WHERE district_id IS NOT DISTINCT FROM %s",
        (district_id,),
    ):
        src = source_name(district_id)
        plan = parse_plan(raw, f"{src}/{sev}")
        if plan is not None:
            out[Severity.parse(sev)] = StoredPlan(plan, src, by, at)
    return out


def district_exists(conn: psycopg.Connection[Any], district_id: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM districts WHERE id = %s", (district_id,)).fetchone() is not None
    )


def _as(conn: psycopg.Connection[Any], actor: str) -> None:
    """Who the history trigger records for the rest of this transaction."""
    conn.execute("SELECT set_config('anbu.actor', %s, true)", (actor,))


def replace_plans(
    conn: psycopg.Connection[Any],
    district_id: str | None,
    plans: Mapping[Severity, EscalationPlan],
    actor: str,
    now: datetime,
) -> None:
    """Set the district's (None: the default's) plans for these severities; an unchanged plan
    is left alone, so that the history shows only real changes."""
    _as(conn, actor)
    arbiter = (
        "(severity) WHERE district_id IS NULL"
        if district_id is None
        else "(district_id, severity) WHERE district_id IS NOT NULL"
    )
    for sev, plan in plans.items():
        conn.execute(
            "INSERT INTO escalation_policies (district_id, severity, plan, updated_by, updated_at)"
            f" VALUES (%s, %s, %s, %s, %s) ON CONFLICT {arbiter} DO UPDATE"
            " SET plan = EXCLUDED.plan, updated_by = EXCLUDED.updated_by,"
            " updated_at = EXCLUDED.updated_at"
            " WHERE escalation_policies.plan IS DISTINCT FROM EXCLUDED.plan",
            (district_id, sev.label, Jsonb(plan.model_dump(mode="json")), actor, now),
        )


def delete_plans(conn: psycopg.Connection[Any], district_id: str | None, actor: str) -> int:
    """Remove the district's (None: the default's) own plans; returns how many there were."""
    _as(conn, actor)
    cur = conn.execute(
        "DELETE FROM escalation_policies WHERE district_id IS NOT DISTINCT FROM %s",
        (district_id,),
    )
    return cur.rowcount


def history(
    conn: psycopg.Connection[Any], district_id: str | None, limit: int = 100
) -> list[dict[str, Any]]:
    """The district's (None: the default's) policy changes, newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id, at, actor, district_id, severity, old_plan, new_plan"
            " FROM escalation_policy_changes WHERE district_id IS NOT DISTINCT FROM %s"
            " ORDER BY id DESC LIMIT %s",
            (district_id, limit),
        ).fetchall()

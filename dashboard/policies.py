"""Escalation policies over the API: a district's effective policy, replacing it, falling back
to the default, and the change history.

`/api/districts/{district_id}/escalation-policy` is one district's; `/api/escalation-policy`
is the service-wide default that districts without their own fall back to (before the built-in
one). Reading: admins, and monitoring staff and team leads of that district (another district
answers 404, as for households). Changing: admins only. Every change is in the history, which
the database keeps append-only; a change applies to escalations that start after it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel

from alerts.policy import EscalationPlan, Policy
from anbu.domain import Severity
from anbu.storage import accounts, policies
from dashboard.auth import Conn, Staff, client_ip, require

router = APIRouter(prefix="/api", tags=["escalation policies"])

DistrictId = Annotated[str, Path(min_length=1, max_length=64)]
Limit = Annotated[int, Query(ge=1, le=1000)]
READERS = require("admin", "monitoring", "team_lead")
ADMIN = require("admin")


class EffectivePolicy(BaseModel):
    #: None: the service-wide default
    district_id: str | None
    policy: Policy
    #: per severity, where its plan comes from: "district:<id>", "default" or "built-in"
    sources: dict[str, str]


class PolicyChange(BaseModel):
    id: int
    at: datetime
    actor: str
    district_id: str | None
    severity: str
    #: None: there was no plan of its own before (the fallback applied)
    old_plan: dict[str, Any] | None
    #: None: removed (the fallback applies again)
    new_plan: dict[str, Any] | None


class PolicyHistory(BaseModel):
    changes: list[PolicyChange]


# -- one district --------------------------------------------------------------------------


@router.get("/districts/{district_id}/escalation-policy", dependencies=[READERS])
def get_district_policy(
    district_id: DistrictId, request: Request, conn: Conn, staff: Staff
) -> EffectivePolicy:
    """The policy that escalations starting now in this district follow."""
    _district_in_scope(conn, staff, district_id)
    return _effective(request, conn, district_id)


@router.put("/districts/{district_id}/escalation-policy", dependencies=[ADMIN])
def put_district_policy(
    district_id: DistrictId, body: Policy, request: Request, conn: Conn, staff: Staff
) -> EffectivePolicy:
    """Replace the district's policy (all three severities)."""
    _district_in_scope(conn, staff, district_id)
    return _replace(request, conn, staff, district_id, body)


@router.delete("/districts/{district_id}/escalation-policy", dependencies=[ADMIN])
def delete_district_policy(
    district_id: DistrictId, request: Request, conn: Conn, staff: Staff
) -> EffectivePolicy:
    """Drop the district's own policy: it follows the default again. Answers what now applies."""
    _district_in_scope(conn, staff, district_id)
    return _delete(request, conn, staff, district_id)


@router.get("/districts/{district_id}/escalation-policy/history", dependencies=[READERS])
def district_policy_history(
    district_id: DistrictId, conn: Conn, staff: Staff, limit: Limit = 100
) -> PolicyHistory:
    """Changes of the district's own policy, newest first."""
    _district_in_scope(conn, staff, district_id)
    return _history(conn, district_id, limit)


# -- the service-wide default --------------------------------------------------------------


@router.get("/escalation-policy", dependencies=[READERS])
def get_default_policy(request: Request, conn: Conn) -> EffectivePolicy:
    """The default for districts without a policy of their own (stored, else built in)."""
    return _effective(request, conn, None)


@router.put("/escalation-policy", dependencies=[ADMIN])
def put_default_policy(body: Policy, request: Request, conn: Conn, staff: Staff) -> EffectivePolicy:
    """Replace the service-wide default (all three severities)."""
    return _replace(request, conn, staff, None, body)


@router.delete("/escalation-policy", dependencies=[ADMIN])
def delete_default_policy(request: Request, conn: Conn, staff: Staff) -> EffectivePolicy:
    """Drop the stored default: the built-in policy applies again."""
    return _delete(request, conn, staff, None)


@router.get("/escalation-policy/history", dependencies=[READERS])
def default_policy_history(conn: Conn, limit: Limit = 100) -> PolicyHistory:
    """Changes of the service-wide default, newest first."""
    return _history(conn, None, limit)


# -- helpers ------------------------------------------------------------------------------


def _district_in_scope(conn: Conn, staff: accounts.StaffMember, district_id: str) -> None:
    if staff.role != "admin" and staff.district_id != district_id:
        raise HTTPException(404, "no such district")
    if not policies.district_exists(conn, district_id):
        raise HTTPException(404, "no such district")


def _effective(request: Request, conn: Conn, district_id: str | None) -> EffectivePolicy:
    built_in: Policy = request.app.state.alerts.policy
    own = policies.stored(conn, district_id)
    default = policies.stored(conn, None) if district_id is not None else {}
    plans: dict[Severity, EscalationPlan] = {}
    sources: dict[str, str] = {}
    for sev in Severity:
        found = own.get(sev) or default.get(sev)
        plans[sev] = found.plan if found else built_in.plan(sev)
        sources[sev.label] = found.source if found else "built-in"
    conn.commit()
    # each plan was validated when stored; the composite is not re-validated, so that a row
    # edited by hand shows as it is instead of failing the request
    policy = Policy.model_construct(
        caution=plans[Severity.CAUTION], alarm=plans[Severity.ALARM], danger=plans[Severity.DANGER]
    )
    return EffectivePolicy(district_id=district_id, policy=policy, sources=sources)


def _replace(
    request: Request,
    conn: Conn,
    staff: accounts.StaffMember,
    district_id: str | None,
    body: Policy,
) -> EffectivePolicy:
    now: datetime = request.app.state.clock.now()
    try:
        policies.replace_plans(
            conn, district_id, {s: body.plan(s) for s in Severity}, staff.id, now
        )
    except psycopg.errors.ForeignKeyViolation:
        conn.rollback()
        raise HTTPException(404, "no such district") from None
    accounts.log_access(conn, staff.id, "set_policy", request.url.path, client_ip(request))
    conn.commit()
    return _effective(request, conn, district_id)


def _delete(
    request: Request, conn: Conn, staff: accounts.StaffMember, district_id: str | None
) -> EffectivePolicy:
    policies.delete_plans(conn, district_id, staff.id)
    accounts.log_access(conn, staff.id, "delete_policy", request.url.path, client_ip(request))
    conn.commit()
    return _effective(request, conn, district_id)


def _history(conn: Conn, district_id: str | None, limit: int) -> PolicyHistory:
    rows = policies.history(conn, district_id, limit)
    conn.commit()
    return PolicyHistory(changes=[PolicyChange(**r) for r in rows])

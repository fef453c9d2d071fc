"""The JSON API: login, alerts (list, acknowledge, resolve, notes, hand-off), households, away mode.

Every household and alert is checked against the caller's scope; outside it the answer is 404,
so nobody learns which households exist. Every view of a household's data and every action on
an alert is written to the access log. Bad input is a 4xx with a message, never a 500.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from alerts.model import Outcome, TransitionError
from anbu.storage import accounts, board
from anbu.storage import alerts as alert_store
from anbu.storage import trend as trend_store
from dashboard.auth import (
    COOKIE,
    SESSION_TTL,
    Conn,
    Staff,
    client_ip,
    new_tokens,
    require,
    verify,
)

router = APIRouter(prefix="/api")

SeverityName = Literal["caution", "alarm", "danger"]
StateName = Literal["open", "acknowledged", "resolved"]
StaffOutcome = Literal[
    "resident_fine",
    "resident_helped",
    "hospitalised",
    "found_deceased",
    "false_alarm_sensor",
    "false_alarm_away",
    "other",
]


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Resolve(BaseModel):
    outcome: StaffOutcome
    note: str = Field(default="", max_length=4000)


class Note(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class Handoff(BaseModel):
    staff_id: str = Field(min_length=1, max_length=64)


class Away(BaseModel):
    reason: Literal["away", "hospital", "visit", "maintenance"]
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    note: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _order(self) -> Away:
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


#: password guessing: this many failures for one username within the window lock it for the
#: rest of the window (counted since its last successful login)
LOGIN_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)


@router.post("/login", responses={429: {"description": "too many failed logins"}})
def login(body: Login, request: Request, response: Response, conn: Conn) -> dict[str, Any]:
    now: datetime = request.app.state.clock.now()
    failures, last = accounts.failed_logins(conn, body.username, now - LOGIN_WINDOW)
    if failures >= LOGIN_FAILURES and last is not None:
        wait = max(1, math.ceil((last + LOGIN_WINDOW - now).total_seconds() / 60))
        raise HTTPException(
            429,
            f"too many failed logins for this username; try again in {wait} min",
            headers={"Retry-After": str(wait * 60)},
        )
    found = accounts.staff_by_username(conn, body.username)
    ok = verify(found[1] if found else None, body.password) and found is not None
    accounts.record_login(conn, body.username, client_ip(request), ok, now)
    if not ok or found is None:
        conn.commit()
        raise HTTPException(401, "wrong username or password")
    staff = found[0]
    token, csrf = new_tokens()
    accounts.create_session(
        conn,
        token,
        staff.id,
        csrf,
        now + SESSION_TTL,
        client_ip(request),
        request.headers.get("user-agent", ""),
    )
    accounts.log_access(conn, staff.id, "login", request.url.path, client_ip(request))
    conn.commit()
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.app.state.secure_cookies,
    )
    return {"staff": _staff(staff), "csrf_token": csrf}


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, conn: Conn, staff: Staff) -> None:
    accounts.end_session(conn, request.cookies.get(COOKIE, ""))
    conn.commit()
    response.delete_cookie(COOKIE)


@router.get("/me")
def me(request: Request, staff: Staff) -> dict[str, Any]:
    return {"staff": _staff(staff), "csrf_token": request.state.csrf}


@router.get("/alerts")
def list_alerts(
    request: Request,
    conn: Conn,
    staff: Staff,
    state: StateName | None = None,
    severity: SeverityName | None = None,
    household: Annotated[str | None, Query(max_length=64)] = None,
    include_resolved: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    rows = alert_store.list_in_scope(
        conn,
        accounts.scope_params(staff),
        state=state,
        severity=severity,
        household_id=household,
        active_only=not include_resolved,
        limit=limit,
    )
    accounts.log_access(
        conn,
        staff.id,
        "list_alerts",
        str(request.url.path),
        client_ip(request),
        household_id=household,
    )
    conn.commit()
    return {"alerts": rows}


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: int, request: Request, conn: Conn, staff: Staff) -> dict[str, Any]:
    a = _alert_in_scope(conn, staff, alert_id)
    accounts.log_access(
        conn, staff.id, "view_alert", request.url.path, client_ip(request), a.household_id, alert_id
    )
    conn.commit()
    return {"alert": _alert(a), "events": alert_store.events(conn, alert_id)}


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(alert_id: int, request: Request, conn: Conn, staff: Staff) -> dict[str, Any]:
    _alert_in_scope(conn, staff, alert_id)
    return _act(
        request,
        conn,
        staff,
        alert_id,
        "acknowledge",
        lambda svc, now: svc.acknowledge(conn, alert_id, staff.id, now),
    )


@router.post("/alerts/{alert_id}/resolve")
def resolve(
    alert_id: int, body: Resolve, request: Request, conn: Conn, staff: Staff
) -> dict[str, Any]:
    _alert_in_scope(conn, staff, alert_id)
    return _act(
        request,
        conn,
        staff,
        alert_id,
        "resolve",
        lambda svc, now: svc.resolve(
            conn, alert_id, staff.id, now, Outcome(body.outcome), body.note
        ),
    )


@router.post("/alerts/{alert_id}/notes")
def note(alert_id: int, body: Note, request: Request, conn: Conn, staff: Staff) -> dict[str, Any]:
    _alert_in_scope(conn, staff, alert_id)
    return _act(
        request,
        conn,
        staff,
        alert_id,
        "note",
        lambda svc, now: svc.note(conn, alert_id, staff.id, now, body.text),
    )


@router.post(
    "/alerts/{alert_id}/handoff",
    status_code=204,
    dependencies=[require("admin", "monitoring", "team_lead", "planner")],
)
def handoff(alert_id: int, body: Handoff, request: Request, conn: Conn, staff: Staff) -> None:
    a = _alert_in_scope(conn, staff, alert_id)
    row = conn.execute(
        "SELECT role FROM staff WHERE id = %s AND active", (body.staff_id,)
    ).fetchone()
    if row is None:
        raise HTTPException(422, f"no active staff member {body.staff_id!r}")
    alert_store.handoff(conn, alert_id, body.staff_id, staff.id)
    accounts.log_access(
        conn, staff.id, "handoff", request.url.path, client_ip(request), a.household_id, alert_id
    )
    conn.commit()


@router.get("/households/{household_id}")
def household(household_id: str, request: Request, conn: Conn, staff: Staff) -> dict[str, Any]:
    _household_in_scope(conn, staff, household_id)
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        h = cur.execute(
            "SELECT id, district_id, dong, display_name, address, phone, birth_year, risk_level,"
            " consent_monitoring, consent_emergency_share, monitoring_profile"
            " FROM households WHERE id = %s",
            (household_id,),
        ).fetchone()
        away = cur.execute(
            "SELECT id, reason, starts_at, ends_at, note, created_by FROM suppressions"
            " WHERE household_id = %s AND (ends_at IS NULL OR ends_at > now())"
            " ORDER BY starts_at",
            (household_id,),
        ).fetchall()
    accounts.log_access(
        conn, staff.id, "view_household", request.url.path, client_ip(request), household_id
    )
    conn.commit()
    return {"household": h, "planners": board.planners(conn, household_id), "away": away}


@router.get(
    "/households/{household_id}/trend",
    summary="The weekly slow-decline report: the latest week and the weeks before it",
)
def household_trend(
    household_id: str,
    request: Request,
    conn: Conn,
    staff: Staff,
    history: Annotated[int, Query(ge=1, le=104, description="Weekly reports, newest first")] = 8,
) -> dict[str, Any]:
    """Per week: signs of life and active hours a day over the report's 8 weeks, the change
    of the last 2 weeks against the first 2, the slope, and whether it is a slow decline (a
    case-management signal for the next visit, never an alarm). `latest` is null before the
    job (`anbu run`, or `anbu trend-job`) has stored a report."""
    _household_in_scope(conn, staff, household_id)
    rows = trend_store.reports(conn, household_id, history)
    accounts.log_access(
        conn, staff.id, "view_trend", request.url.path, client_ip(request), household_id
    )
    conn.commit()
    return {"household_id": household_id, "latest": rows[0] if rows else None, "history": rows}


@router.get(
    "/households/{household_id}/access-log",
    dependencies=[require("admin", "team_lead")],
    summary="Who saw or acted on this household's data (admins and team leads, for audits)",
)
def access_log(
    household_id: str,
    request: Request,
    conn: Conn,
    staff: Staff,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    _household_in_scope(conn, staff, household_id)
    rows = accounts.access_history(conn, household_id, limit)
    # reading the log is itself an access
    accounts.log_access(
        conn, staff.id, "view_access_log", request.url.path, client_ip(request), household_id
    )
    conn.commit()
    return {"household_id": household_id, "entries": rows}


@router.post(
    "/households/{household_id}/away",
    status_code=201,
    dependencies=[require("admin", "monitoring", "team_lead", "planner")],
)
def set_away(
    household_id: str, body: Away, request: Request, conn: Conn, staff: Staff
) -> dict[str, Any]:
    _household_in_scope(conn, staff, household_id)
    row = conn.execute(
        "INSERT INTO suppressions (household_id, reason, starts_at, ends_at, note, created_by)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (household_id, body.reason, body.starts_at, body.ends_at, body.note, staff.id),
    ).fetchone()
    accounts.log_access(
        conn, staff.id, "set_away", request.url.path, client_ip(request), household_id
    )
    conn.commit()
    assert row is not None
    return {"id": row[0]}


@router.post(
    "/households/{household_id}/away/{away_id}/end",
    status_code=204,
    dependencies=[require("admin", "monitoring", "team_lead", "planner")],
)
def end_away(household_id: str, away_id: int, request: Request, conn: Conn, staff: Staff) -> None:
    _household_in_scope(conn, staff, household_id)
    now = request.app.state.clock.now()
    cur = conn.execute(
        "UPDATE suppressions SET ends_at = %s, ended_by = %s WHERE id = %s"
        " AND household_id = %s AND (ends_at IS NULL OR ends_at > %s)",
        (now, staff.id, away_id, household_id, now),
    )
    if cur.rowcount == 0:
        raise HTTPException(404, "no such current away window")
    accounts.log_access(
        conn, staff.id, "end_away", request.url.path, client_ip(request), household_id
    )
    conn.commit()


# -- helpers ------------------------------------------------------------------------------


def _household_in_scope(conn: Conn, staff: accounts.StaffMember, household_id: str) -> None:
    if not accounts.can_see(conn, staff, household_id):
        raise HTTPException(404, "no such household")


def _alert_in_scope(conn: Conn, staff: accounts.StaffMember, alert_id: int) -> Any:
    a = alert_store.load(conn, alert_id)
    if a is None or not accounts.can_see(conn, staff, a.household_id):
        raise HTTPException(404, "no such alert")
    return a


def _act(
    request: Request, conn: Conn, staff: accounts.StaffMember, alert_id: int, action: str, do: Any
) -> dict[str, Any]:
    now: datetime = request.app.state.clock.now()
    try:
        a = do(request.app.state.alerts, now)
    except TransitionError as e:
        conn.rollback()
        raise HTTPException(409, str(e)) from None
    accounts.log_access(
        conn, staff.id, action, request.url.path, client_ip(request), a.household_id, alert_id
    )
    conn.commit()
    return {"alert": _alert(a)}


def _alert(a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "household_id": a.household_id,
        "kind": a.kind,
        "severity": a.severity.label,
        "state": a.state.value,
        "opened_at": a.opened_at,
        "updated_at": a.updated_at,
        "explanation": a.explanation,
        "evidence": a.evidence,
        "acknowledged_by": a.acknowledged_by,
        "acknowledged_at": a.acknowledged_at,
        "resolved_by": a.resolved_by,
        "resolved_at": a.resolved_at,
        "outcome": a.outcome.value if a.outcome else None,
        "escalation_step": a.escalation_step,
    }


def _staff(s: accounts.StaffMember) -> dict[str, Any]:
    return {
        "id": s.id,
        "username": s.username,
        "display_name": s.display_name,
        "role": s.role,
        "district_id": s.district_id,
        "locale": s.locale,
    }

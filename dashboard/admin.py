"""Administration: bulk CSV import, staff, passwords and planner assignments."""

from __future__ import annotations

from typing import Any, Literal

import psycopg
from fastapi import APIRouter, HTTPException, Request
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from anbu import registry_csv
from anbu.passwords import hash_password
from anbu.storage import accounts, registry
from dashboard.auth import Conn, Staff, client_ip, require

router = APIRouter(prefix="/api")

MAX_CSV_BYTES = 5 * 1024 * 1024


class Password(BaseModel):
    password: str = Field(min_length=12, max_length=256)


class Assignments(BaseModel):
    primary: str | None = Field(default=None, max_length=64)
    backup: str | None = Field(default=None, max_length=64)


@router.post("/import/{kind}", dependencies=[require("admin")])
async def import_csv(
    kind: Literal["households", "staff", "assignments"], request: Request, staff: Staff
) -> dict[str, Any]:
    """Import a CSV file (the request body, UTF-8): everything or, on any error, nothing."""
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(413, f"CSV larger than {MAX_CSV_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(422, "the CSV must be UTF-8 (save as 'CSV UTF-8')") from None
    parsed: Any = getattr(registry_csv, kind)(text)
    if parsed.errors:
        raise HTTPException(
            422,
            {
                "message": f"{len(parsed.errors)} problem(s); nothing was imported",
                "errors": parsed.errors[:100],
            },
        )
    if not parsed.rows:
        raise HTTPException(422, "the CSV has no rows")
    with request.app.state.pool.connection() as conn:
        try:
            with conn.transaction():
                if kind == "households":
                    registry.upsert_households(conn, parsed.rows)
                elif kind == "staff":
                    registry.upsert_staff(conn, parsed.rows)
                else:
                    for a in parsed.rows:
                        registry.assign(conn, a.household_id, a.staff_id, a.role)
                accounts.log_access(
                    conn,
                    staff.id,
                    f"import_{kind}",
                    request.url.path,
                    client_ip(request),
                )
        except psycopg.errors.ForeignKeyViolation as e:
            detail = e.diag.message_detail or str(e)
            raise HTTPException(422, f"unknown reference: {detail}; nothing was imported") from None
        except psycopg.errors.UniqueViolation as e:
            detail = e.diag.message_detail or str(e)
            raise HTTPException(422, f"duplicate: {detail}; nothing was imported") from None
    return {"imported": len(parsed.rows)}


@router.get("/staff", dependencies=[require("admin", "monitoring", "team_lead")])
def list_staff(conn: Conn, staff: Staff) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT id, username, display_name, role, district_id, phone, email, active,"
            " password_hash IS NOT NULL AS can_log_in FROM staff"
            " WHERE %(admin)s OR district_id = %(district)s ORDER BY id",
            {"admin": staff.role == "admin", "district": staff.district_id},
        ).fetchall()
    return {"staff": rows}


@router.post("/staff/{staff_id}/password", status_code=204, dependencies=[require("admin")])
def set_password(staff_id: str, body: Password, request: Request, conn: Conn, staff: Staff) -> None:
    if conn.execute("SELECT 1 FROM staff WHERE id = %s", (staff_id,)).fetchone() is None:
        raise HTTPException(404, "no such staff member")
    accounts.set_password_hash(conn, staff_id, hash_password(body.password))
    conn.execute("DELETE FROM sessions WHERE staff_id = %s", (staff_id,))  # log out everywhere
    accounts.log_access(
        conn,
        staff.id,
        "set_password",
        request.url.path,
        client_ip(request),
    )
    conn.commit()


@router.put(
    "/households/{household_id}/assignments",
    dependencies=[require("admin", "monitoring", "team_lead")],
)
def set_assignments(
    household_id: str, body: Assignments, request: Request, conn: Conn, staff: Staff
) -> dict[str, Any]:
    if not accounts.can_see(conn, staff, household_id):
        raise HTTPException(404, "no such household")
    for role, sid in (("primary", body.primary), ("backup", body.backup)):
        if sid is None:
            continue
        row = conn.execute("SELECT role FROM staff WHERE id = %s AND active", (sid,)).fetchone()
        if row is None or row[0] != "planner":
            raise HTTPException(422, f"{role}: {sid!r} is not an active planner")
        registry.assign(conn, household_id, sid, role)
    accounts.log_access(
        conn,
        staff.id,
        "set_assignments",
        request.url.path,
        client_ip(request),
        household_id,
    )
    conn.commit()
    return {"household_id": household_id, "primary": body.primary, "backup": body.backup}

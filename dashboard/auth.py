"""Logins, sessions and CSRF for staff.

Passwords are hashed with argon2. A session is a random token in an HttpOnly, SameSite=Lax
cookie; the database keeps only its hash, so a leaked table opens no session. Every request
that changes something must echo the session's CSRF token in `X-CSRF-Token`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

import psycopg
from fastapi import Depends, HTTPException, Request

from anbu.passwords import hash_password, verify
from anbu.storage import accounts

__all__ = ["hash_password", "verify"]

COOKIE = "anbu_session"
SESSION_TTL = timedelta(hours=12)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def new_tokens() -> tuple[str, str]:
    return secrets.token_urlsafe(32), secrets.token_urlsafe(24)


def db(request: Request) -> Iterator[psycopg.Connection[Any]]:
    with request.app.state.pool.connection() as conn:
        yield conn


Conn = Annotated[psycopg.Connection[Any], Depends(db)]


def session_of(
    request: Request, conn: psycopg.Connection[Any]
) -> tuple[accounts.StaffMember, str] | None:
    """The staff member and CSRF token of the request's session cookie, if it is live."""
    token = request.cookies.get(COOKIE)
    return accounts.session(conn, token, request.app.state.clock.now()) if token else None


def current(request: Request, conn: Conn) -> accounts.StaffMember:
    found = session_of(request, conn)
    if found is None:
        raise HTTPException(401, "log in first")
    staff, csrf = found
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get("x-csrf-token", "")
        if not secrets.compare_digest(sent, csrf):
            raise HTTPException(403, "missing or wrong X-CSRF-Token header")
    request.state.csrf = csrf
    return staff


Staff = Annotated[accounts.StaffMember, Depends(current)]


def require(*roles: str) -> Any:
    def check(staff: Staff) -> accounts.StaffMember:
        if staff.role not in roles:
            raise HTTPException(403, f"this needs the role {' or '.join(roles)}")
        return staff

    return Depends(check)

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
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request

from anbu.storage import accounts

COOKIE = "anbu_session"
SESSION_TTL = timedelta(hours=12)
_hasher = PasswordHasher()
#: verified against when the username is unknown, so both cases take the same time
_DUMMY = _hasher.hash("not a password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_tokens() -> tuple[str, str]:
    return secrets.token_urlsafe(32), secrets.token_urlsafe(24)


def db(request: Request) -> Iterator[psycopg.Connection[Any]]:
    with request.app.state.pool.connection() as conn:
        yield conn


Conn = Annotated[psycopg.Connection[Any], Depends(db)]


def current(request: Request, conn: Conn) -> accounts.StaffMember:
    token = request.cookies.get(COOKIE)
    found = accounts.session(conn, token, request.app.state.clock.now()) if token else None
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

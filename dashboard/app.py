"""The web application: built by `create_app`, nothing created at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool

from alerts.service import AlertService
from anbu.clock import Clock, SystemClock
from dashboard import admin
from dashboard.api import router


def create_app(
    database_url: str,
    *,
    alerts: AlertService | None = None,
    clock: Clock | None = None,
    secure_cookies: bool = False,
    pool_size: int = 8,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = ConnectionPool(
            database_url, min_size=1, max_size=pool_size, open=False, kwargs={"autocommit": False}
        )
        pool.open(wait=True, timeout=30)
        app.state.pool = pool
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(
        title="anbu",
        version="0.1.0",
        lifespan=lifespan,
        description="Monitoring for people who live alone: alerts, households, "
        "away mode. Every route is scoped to the caller's households.",
    )
    app.state.alerts = alerts or AlertService()
    app.state.clock = clock or SystemClock()
    app.state.secure_cookies = secure_cookies
    app.include_router(router)
    app.include_router(admin.router)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # the same 422 as FastAPI's, with a one-line message staff and integrators can read
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(
            {
                "detail": f"{where}: {first.get('msg', 'invalid input')}",
                "errors": [
                    {"loc": e.get("loc"), "msg": e.get("msg"), "type": e.get("type")}
                    for e in errors
                ],
            },
            status_code=422,
        )

    return app

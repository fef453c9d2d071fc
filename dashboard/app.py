"""The web application: built by `create_app`, nothing created at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from psycopg_pool import ConnectionPool
from starlette.exceptions import HTTPException as StarletteHTTPException

from alerts.service import AlertService
from anbu.clock import Clock, SystemClock
from dashboard import admin, live, pages, policies
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
        hub = live.Broadcaster(database_url)
        app.state.broadcaster = hub
        hub.start()
        try:
            yield
        finally:
            await hub.stop()
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
    app.include_router(live.router)
    app.include_router(pages.router)
    app.mount(
        "/static", StaticFiles(directory=Path(pages.HERE) / "static"), name="static"
    )

    @app.get("/healthz", tags=["operations"], summary="Liveness for load balancers and Docker")
    def healthz(request: Request) -> JSONResponse:
        """200 when the database answers and live updates are flowing; 503 otherwise.
        No login: it says nothing about households."""
        try:
            with request.app.state.pool.connection(timeout=2) as conn:
                conn.execute("SELECT 1")
                conn.rollback()
            database = True
        except Exception:
            database = False
        live_ok = request.app.state.broadcaster.listening.is_set()
        ok = database and live_ok
        return JSONResponse({"database": database, "live": live_ok}, 200 if ok else 503)

    @app.exception_handler(pages.LoginRequired)
    async def login_first(request: Request, exc: pages.LoginRequired) -> Response:
        return pages.login_redirect(request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # pages answer in HTML; the API (and anything asked for as JSON) keeps FastAPI's JSON
        wants_html = "text/html" in request.headers.get("accept", "")
        if exc.status_code == 404 and wants_html and not request.url.path.startswith("/api/"):
            return pages.not_found_page(request)
        return await http_exception_handler(request, exc)
    app.include_router(policies.router)

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

"""Live updates: one LISTEN connection per web process, fanned out to every open page.

PostgreSQL announces each alert, hand-off and away-window change on `anbu_board` (migration
0007) when its transaction commits. The `Broadcaster` keeps one connection listening and puts
each announcement on the queue of every connected page; each page's stream passes on only
households in its viewer's scope (re-read when a household it does not know appears, which is
how a field worker starts seeing an alert handed to them). Pages reach it as Server-Sent
Events at `/events`; a browser reconnects by itself, and after a gap the page is told to
refresh (`resync`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import psycopg
from fastapi import APIRouter, HTTPException, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from anbu.storage import accounts
from anbu.storage import board as store
from dashboard.auth import session_of

log = logging.getLogger(__name__)
CHANNEL = "anbu_board"
#: a page that falls this far behind is told to refresh instead of being sent every change
QUEUE_LIMIT = 2000
RESYNC = "__resync__"

router = APIRouter()


class Broadcaster:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._queues: set[asyncio.Queue[str]] = set()
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="anbu-board-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self) -> asyncio.Queue[str]:
        q: asyncio.Queue[str] = asyncio.Queue(QUEUE_LIMIT)
        self._queues.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[str]) -> None:
        self._queues.discard(q)

    @property
    def clients(self) -> int:
        return len(self._queues)

    def publish(self, payload: str) -> None:
        for q in list(self._queues):
            try:
                q.put_nowait(payload)
            except asyncio.QueueFull:
                # too far behind: drop what it has and tell the page to refresh itself
                while not q.empty():
                    q.get_nowait()
                q.put_nowait(RESYNC)

    async def _run(self) -> None:
        delay = 0.5
        first = True
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if not first:
                        self.publish(RESYNC)  # changes may have been missed while away
                    first, delay = False, 0.5
                    async for n in conn.notifies():
                        self.publish(n.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.listening.clear()
                log.warning("board listener lost its connection; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


class Scope:
    """Which households one page may hear about; re-read on a miss, at most once a second."""

    def __init__(self, pool: Any, staff: accounts.StaffMember) -> None:
        self._pool = pool
        self._staff = staff
        self._ids: set[str] = set()
        self._read_at = 0.0

    @property
    def everything(self) -> bool:
        return self._staff.role == "admin"

    def _read(self) -> set[str]:
        with self._pool.connection() as conn:
            ids = store.visible_ids(conn, accounts.scope_params(self._staff))
            conn.rollback()
        return ids

    async def refresh(self) -> None:
        self._ids = await run_in_threadpool(self._read)
        self._read_at = time.monotonic()

    async def allows(self, household_id: str) -> bool:
        if self.everything or household_id in self._ids:
            return True
        if time.monotonic() - self._read_at >= 1.0:
            await self.refresh()
        return household_id in self._ids


def _session(request: Request) -> accounts.StaffMember:
    # its own short use of a pooled connection: a stream must not hold one while it waits
    with request.app.state.pool.connection() as conn:
        found = session_of(request, conn)
        conn.rollback()
    if found is None:
        raise HTTPException(401, "log in first")
    return found[0]


@router.get(
    "/events",
    summary="Live board updates (Server-Sent Events) for households in the caller's scope",
    response_class=EventSourceResponse,
)
async def events(request: Request) -> EventSourceResponse:
    staff = await run_in_threadpool(_session, request)
    scope = Scope(request.app.state.pool, staff)
    await scope.refresh()
    hub: Broadcaster = request.app.state.broadcaster
    queue = hub.subscribe()

    async def stream() -> AsyncIterator[dict[str, str]]:
        try:
            yield {"event": "hello", "data": orjson.dumps({"staff": staff.id}).decode()}
            while True:
                payload = await queue.get()
                if payload == RESYNC:
                    yield {"event": "resync", "data": "{}"}
                    continue
                try:
                    change = orjson.loads(payload)
                    household = str(change["household_id"])
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    log.warning("ignoring a malformed board notification: %.200s", payload)
                    continue
                if await scope.allows(household):
                    yield {"event": "board", "data": payload}
        finally:
            hub.unsubscribe(queue)

    return EventSourceResponse(stream(), ping=15)

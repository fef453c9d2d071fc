"""Real receivers for alert deliveries (an HTTP webhook endpoint and an SMTP server), and the
district the alert tests deliver for."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
from aiosmtpd.controller import Controller

from anbu.embedded import free_port
from anbu.storage.registry import (
    DistrictRow,
    HouseholdRow,
    StaffRow,
    assign,
    upsert_districts,
    upsert_households,
    upsert_staff,
)


@dataclass
class Webhook:
    url: str
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    #: the same requests with their path: (path, headers, body)
    calls: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    #: status to answer per last path segment (204 otherwise); the request is kept either way
    answers: dict[str, int] = field(default_factory=dict)
    #: while True, answer 503 and keep nothing (the receiver is "down")
    down: bool = False

    def keys(self) -> list[str]:
        return [h["Idempotency-Key"] for h, _ in self.received]

    def to(self, who: str) -> list[dict[str, Any]]:
        """Bodies posted to `{url}/{who}`."""
        return [body for path, _, body in self.calls if path.endswith(f"/{who}")]


@contextlib.contextmanager
def webhook(answers: Mapping[str, int] | None = None) -> Iterator[Webhook]:
    port = free_port()
    hook = Webhook(f"http://127.0.0.1:{port}/hook", answers=dict(answers or {}))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if hook.down:
                self.send_response(503)
                self.end_headers()
                return
            headers, doc = dict(self.headers), json.loads(body)
            hook.received.append((headers, doc))
            hook.calls.append((self.path, headers, doc))
            self.send_response(hook.answers.get(self.path.rsplit("/", 1)[-1], 204))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield hook
    finally:
        srv.shutdown()
        srv.server_close()


def seed_district(conn: psycopg.Connection[Any], webhooks: Mapping[str, str]) -> None:
    """hh-1 in d1 (성동구): primary planner p1, backup p2, team lead `lead`; one webhook
    channel per staff id in `webhooks` (staff id -> URL). Commits."""
    upsert_districts(conn, [DistrictRow("d1", "성동구", "Seongdong-gu")])
    upsert_staff(
        conn,
        [
            StaffRow("p1", "planner1", "최유진", "planner", "d1"),
            StaffRow("p2", "planner2", "정다은", "planner", "d1"),
            StaffRow("lead", "lead1", "박성희", "team_lead", "d1"),
        ],
    )
    upsert_households(conn, [HouseholdRow("hh-1", "d1", "마장동", "김○○")])
    assign(conn, "hh-1", "p1", "primary")
    assign(conn, "hh-1", "p2", "backup")
    for staff, url in webhooks.items():
        conn.execute(
            "INSERT INTO staff_channels (staff_id, channel, address) VALUES (%s, 'webhook', %s)",
            (staff, url),
        )
    conn.commit()


@dataclass
class Mailbox:
    port: int
    messages: list[Any] = field(default_factory=list)


@contextlib.contextmanager
def smtp() -> Iterator[Mailbox]:
    box = Mailbox(free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    ctl = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    ctl.start()
    try:
        yield box
    finally:
        ctl.stop()

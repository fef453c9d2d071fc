"""Real receivers for alert deliveries: an HTTP webhook endpoint and an SMTP server."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from anbu.embedded import free_port


@dataclass
class Webhook:
    url: str
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    #: while True, answer 503 (the receiver is "down")
    down: bool = False

    def keys(self) -> list[str]:
        return [h["Idempotency-Key"] for h, _ in self.received]


@contextlib.contextmanager
def webhook() -> Iterator[Webhook]:
    port = free_port()
    hook = Webhook(f"http://127.0.0.1:{port}/hook")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if hook.down:
                self.send_response(503)
                self.end_headers()
                return
            hook.received.append((dict(self.headers), json.loads(body)))
            self.send_response(204)
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

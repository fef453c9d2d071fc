"""Notifiers: one small interface, one class per channel. Only these do delivery I/O.

A notifier raises `Retryable` for a failure that may pass (receiver down, timeout, 5xx, 429)
and `Permanent` for one that will not (4xx, unknown mailbox); the outbox worker retries the
first with backoff and gives up on the second at once.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol
from urllib.parse import urlsplit

from anbu.storage.alerts import OutboxRow


class DeliveryError(Exception):
    pass


class Retryable(DeliveryError):
    pass


class Permanent(DeliveryError):
    pass


class Notifier(Protocol):
    def send(self, row: OutboxRow) -> None: ...


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`X-Anbu-Signature`: HMAC-SHA256 over "<timestamp>.<body>", hex, as "sha256=…"."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


class WebhookNotifier:
    """JSON POST, signed, with the idempotency key: for SMS/KakaoTalk gateways and others.

    Keeps one HTTP/1.1 connection per sending thread and host, reopened after any error.
    """

    def __init__(self, secret: bytes, timeout_s: float = 5.0) -> None:
        self.secret = secret
        self.timeout_s = timeout_s
        self._local = threading.local()

    def send(self, row: OutboxRow) -> None:
        body = json.dumps(row.payload, ensure_ascii=False, sort_keys=True).encode()
        ts = str(int(time.time()))
        u = urlsplit(row.address)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise Permanent(f"not an http(s) URL: {row.address!r}")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": row.idempotency_key,
            "X-Anbu-Timestamp": ts,
            "X-Anbu-Signature": sign(self.secret, ts, body),
            "User-Agent": "anbu-alerts",
        }
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        conn = self._connection(u.scheme, u.netloc)
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException) as e:
            self._drop(u.scheme, u.netloc)
            raise Retryable(f"{type(e).__name__}: {e}") from e
        if resp.will_close:
            self._drop(u.scheme, u.netloc)
        if resp.status in (408, 425, 429) or resp.status >= 500:
            raise Retryable(f"HTTP {resp.status}")
        if resp.status >= 300:
            raise Permanent(f"HTTP {resp.status}")

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "pool", {}
        )
        conn = pool.get((scheme, netloc))
        if conn is None:
            cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = cls(netloc, timeout=self.timeout_s)
            pool[(scheme, netloc)] = conn
        return conn

    def _drop(self, scheme: str, netloc: str) -> None:
        conn = self._local.__dict__.get("pool", {}).pop((scheme, netloc), None)
        if conn is not None:
            conn.close()


@dataclass(frozen=True, slots=True)
class EmailNotifier:
    host: str
    port: int = 25
    sender: str = "anbu@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 10.0

    def send(self, row: OutboxRow) -> None:
        p = row.payload
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = row.address
        msg["Subject"] = subject(p)
        # the idempotency key makes the Message-ID, so a resend is recognisably the same mail
        msg["Message-ID"] = make_msgid(idstring=row.idempotency_key, domain="anbu")
        msg["X-Anbu-Idempotency-Key"] = row.idempotency_key
        msg.set_content(text(p))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as e:
            raise Permanent(str(e)) from e
        except (smtplib.SMTPException, OSError) as e:
            raise Retryable(str(e)) from e


class Publisher(Protocol):
    def publish_json(self, topic: str, payload: dict[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class MqttNotifier:
    """To a staff member's topic (a field app) or, for check-ins, the home's device."""

    publisher: Publisher

    def send(self, row: OutboxRow) -> None:
        payload = {**row.payload, "idempotency_key": row.idempotency_key}
        try:
            self.publisher.publish_json(row.address, payload)
        except (OSError, TimeoutError) as e:
            raise Retryable(str(e)) from e


SEVERITY_KO = {"caution": "주의", "alarm": "경보", "danger": "위험"}


def subject(p: dict[str, Any]) -> str:
    sev = p.get("severity", "")
    return f"[anbu {SEVERITY_KO.get(sev, sev)}/{sev}] {p.get('household_id')} {p.get('kind')}"


def text(p: dict[str, Any]) -> str:
    lines = [
        f"{SEVERITY_KO.get(p.get('severity', ''), '')} {p.get('severity')}: {p.get('kind')}",
        f"가구/household: {p.get('household_id')}",
        str(p.get("explanation", "")),
        f"단계/step {p.get('step')}{' (다시 알림/reminder)' if p.get('reminder') else ''}",
    ]
    if p.get("routing"):
        lines.append(str(p["routing"]))
    failed = p.get("delivery_failed")
    if isinstance(failed, dict):
        lines.append(
            f"전달 실패/delivery failed: {failed.get('recipient')} ({failed.get('channel')}),"
            f" {failed.get('attempts')}회/attempts: {failed.get('error')}"
        )
    if p.get("url"):
        lines.append(str(p["url"]))
    return "\n".join(lines) + "\n"

"""The outbox worker: sends pending deliveries, retries with backoff, records every attempt.

Rows are claimed with FOR UPDATE SKIP LOCKED, so several workers can run; a row is marked sent
in the same transaction that records the attempt. A crash between sending and committing means
the delivery is sent again with the same idempotency key, which receivers use to drop it
(at-least-once delivery, exactly-once effect).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from alerts.channels import Notifier, Permanent, Retryable
from anbu.storage import alerts as store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    first: timedelta = timedelta(seconds=5)
    factor: float = 2.0
    most: timedelta = timedelta(minutes=5)
    #: after this long without success a delivery fails for good (and is shown on the board)
    give_up_after: timedelta = timedelta(hours=24)

    def delay(self, attempts: int) -> timedelta:
        return min(self.most, self.first * (self.factor ** max(attempts - 1, 0)))


@dataclass(slots=True)
class OutboxWorker:
    notifiers: Mapping[str, Notifier]
    backoff: Backoff = Backoff()

    def run_once(self, conn: psycopg.Connection[Any], now: datetime, limit: int = 100) -> int:
        """Send what is due at `now`; returns the number delivered."""
        sent = 0
        with conn.transaction():
            rows = store.claim_due(conn, now, limit)
            for row in rows:
                sent += self._send(conn, row, now)
        return sent

    def _send(self, conn: psycopg.Connection[Any], row: store.OutboxRow, now: datetime) -> int:
        notifier = self.notifiers.get(row.channel)
        t0 = time.perf_counter()
        error: str | None = None
        give_up = False
        try:
            if notifier is None:
                raise Permanent(f"no notifier configured for channel {row.channel!r}")
            notifier.send(row)
        except Retryable as e:
            error = f"retryable: {e}"
        except Permanent as e:
            error, give_up = f"permanent: {e}", True
        ms = (time.perf_counter() - t0) * 1000
        attempts = row.attempts + 1
        created = now - self.backoff.delay(attempts)  # conservative when age is unknown
        give_up = give_up or (
            error is not None and attempts > 1 and now - created >= self.backoff.give_up_after
        )
        store.record_attempt(
            conn, row, now, error is None, error, ms, now + self.backoff.delay(attempts), give_up
        )
        if error:
            log.warning(
                "delivery %s (%s to %s) failed: %s", row.id, row.channel, row.address, error
            )
        return 1 if error is None else 0

"""The outbox worker: sends pending deliveries, retries with backoff, records every attempt.

Rows are claimed with FOR UPDATE SKIP LOCKED, so several workers can run; a row is marked sent
in the same transaction that records the attempt. A crash between sending and committing means
the delivery is sent again with the same idempotency key, which receivers use to drop it
(at-least-once delivery, exactly-once effect).

A delivery that fails for good (a permanent error, or `Backoff.give_up_after` of retrying) is
handed to `failures` (the alert service) in the same transaction that marks its row failed, so
it is recorded and escalated exactly once (`alerts.failures`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import psycopg

from alerts.channels import Notifier, Permanent, Retryable
from alerts.failures import Failure
from alerts.service import AlertService
from anbu.storage import alerts as store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    first: timedelta = timedelta(seconds=2)
    factor: float = 2.0
    most: timedelta = timedelta(minutes=5)
    #: after this long without success a delivery fails for good (and is shown on the board)
    give_up_after: timedelta = timedelta(hours=24)

    def delay(self, attempts: int) -> timedelta:
        return min(self.most, self.first * (self.factor ** max(attempts - 1, 0)))


class FailureHandler(Protocol):
    def delivery_failed(
        self, conn: psycopg.Connection[Any], failed: Sequence[Failure], now: datetime
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class _Result:
    row: store.OutboxRow
    error: str | None
    give_up: bool
    ms: float


@dataclass(slots=True)
class OutboxWorker:
    notifiers: Mapping[str, Notifier]
    backoff: Backoff = Backoff()
    #: deliveries sent at once (they wait on the network, not on the CPU)
    concurrency: int = 16
    #: records and escalates deliveries that failed for good: the composition root passes its
    #: AlertService; a worker built without one still escalates (with the built-in policy for
    #: alerts that have no stored plan, the default calendar and no dashboard link)
    failures: FailureHandler = field(default_factory=AlertService)
    _pool: ThreadPoolExecutor | None = None

    def run_once(self, conn: psycopg.Connection[Any], now: datetime, limit: int = 0) -> int:
        """Send what is due at `now` (one claim); returns the number delivered."""
        with conn.transaction():
            rows = store.claim_due(conn, now, limit or self.concurrency * 4)
            if len(rows) > 1 and self.concurrency > 1:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.concurrency, "anbu-deliver")
                results = list(self._pool.map(self._send, rows))
            else:
                results = [self._send(r) for r in rows]
            failed = store.record_attempts(conn, now, [self._attempt(r, now) for r in results])
            if failed:
                self.failures.delivery_failed(conn, [_failure(a) for a in failed], now)
        return sum(1 for r in results if r.error is None)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def _send(self, row: store.OutboxRow) -> _Result:
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
        return _Result(row, error, give_up, (time.perf_counter() - t0) * 1000)

    def _attempt(self, res: _Result, now: datetime) -> store.Attempt:
        row = res.row
        if res.error is None:
            return store.Attempt(row, True, None, res.ms, None)
        log.warning(
            "delivery %s (%s to %s) failed: %s", row.id, row.channel, row.address, res.error
        )
        give_up = res.give_up or now - row.created_at >= self.backoff.give_up_after
        retry_at = None if give_up else now + self.backoff.delay(row.attempts + 1)
        return store.Attempt(row, False, res.error, res.ms, retry_at)


def _failure(a: store.Attempt) -> Failure:
    r = a.row
    return Failure(
        r.id, r.alert_id, r.channel, r.recipient, a.error or "", r.attempts + 1, r.created_at
    )

"""The alerting loop in a live system: deliver as soon as a delivery is committed, escalate on time.

Two threads. The deliverer LISTENs on `anbu_outbox` (sent when outbox rows commit) and sends
what is due, waking at the latest when the next retry is due. The escalator ticks the
escalation policy every `tick_s` seconds. Both read time from a Clock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import psycopg

from alerts.outbox import OutboxWorker
from alerts.service import AlertService
from anbu.clock import Clock, SystemClock
from anbu.storage import alerts as store
from anbu.storage.db import connect

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AlertRunner:
    database_url: str
    service: AlertService
    worker: OutboxWorker
    clock: Clock = field(default_factory=SystemClock)
    tick_s: float = 5.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _listening: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, timeout: float = 10.0) -> None:
        """Start both threads; returns once the deliverer listens, so no wake-up is missed."""
        for name, target in (("anbu-deliver", self._deliver), ("anbu-escalate", self._escalate)):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        if not self._listening.wait(timeout):
            raise RuntimeError("the alert deliverer could not LISTEN on the database")

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(10)
        self.worker.close()

    def _deliver(self) -> None:
        listen = connect(self.database_url, autocommit=True)
        listen.execute("LISTEN anbu_outbox")
        self._listening.set()
        conn = connect(self.database_url)
        try:
            while not self._stop.is_set():
                try:
                    while self.worker.run_once(conn, self.clock.now()) or self._more_due(conn):
                        if self._stop.is_set():
                            return
                    nxt = store.next_outbox_at(conn)
                    conn.commit()
                    wait = 1.0
                    if nxt is not None:
                        wait = max(0.0, min(wait, (nxt - self.clock.now()).total_seconds()))
                    for _ in listen.notifies(timeout=wait, stop_after=1):
                        pass
                except psycopg.OperationalError as e:
                    log.warning("deliverer lost the database (%s); reconnecting", e)
                    self._stop.wait(2)
                    conn = connect(self.database_url)
                    listen = connect(self.database_url, autocommit=True)
                    listen.execute("LISTEN anbu_outbox")
                except Exception:
                    # a bug or bad data must not end delivery for everyone: log, undo, go on
                    log.exception("delivery round failed; retrying")
                    _rollback(conn)
                    self._stop.wait(2)
        finally:
            conn.close()
            listen.close()

    def _more_due(self, conn: psycopg.Connection[Any]) -> bool:
        """More than one claim's worth was due: go on without waiting."""
        nxt = store.next_outbox_at(conn)
        conn.commit()
        return nxt is not None and nxt <= self.clock.now()

    def _escalate(self) -> None:
        conn = connect(self.database_url)
        try:
            while not self._stop.wait(self.tick_s):
                try:
                    self.service.tick(conn, self.clock.now())
                except psycopg.OperationalError as e:
                    log.warning("escalator lost the database (%s); reconnecting", e)
                    conn = connect(self.database_url)
                except Exception:
                    log.exception("escalation tick failed; retrying at the next tick")
                    _rollback(conn)
        finally:
            conn.close()


def _rollback(conn: psycopg.Connection[Any]) -> None:
    try:
        conn.rollback()
    except psycopg.Error:
        log.warning("could not roll back after a failure", exc_info=True)

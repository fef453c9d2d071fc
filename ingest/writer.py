"""The batching writer: drains the queue, commits a batch, then acknowledges its messages.

A message is acknowledged to the broker only after everything it carried (readings and dead
letters) is committed, so a crash at any point loses nothing: the broker redelivers what was
not acknowledged, and duplicates are dropped by the unique index.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

import psycopg

from anbu.domain import DeadLetter, Reading
from anbu.storage import readings as store
from anbu.storage.db import connect
from ingest.backlog import Backlog
from ingest.rows import Rows

log = logging.getLogger(__name__)


class Item(NamedTuple):
    """One MQTT message after decoding, with what is needed to acknowledge it."""

    decoded: Rows
    #: (connection generation, MQTT packet id) for a QoS 1 message; None needs no ack
    ack: tuple[int, int] | None = None


@dataclass(slots=True)
class WriterStats:
    messages: int = 0
    readings: int = 0
    inserted: int = 0
    dead_letters: int = 0
    batches: int = 0
    #: batches copied straight into `readings` (all devices known, no duplicate)
    direct_batches: int = 0
    retries: int = 0
    last_commit: float = 0.0


@dataclass(slots=True)
class BatchWriter:
    database_url: str
    q: Backlog[Item]
    batch_max: int = 5_000
    batch_ms: int = 50
    unknown_devices: Literal["register", "reject"] = "register"
    #: called after each commit with the batch's readings (detectors observe them here)
    on_commit: Callable[[Sequence[Reading]], None] | None = None
    #: acknowledges a committed batch's messages to the broker
    acknowledge: Callable[[list[tuple[int, int]]], None] | None = None
    stats: WriterStats = field(default_factory=WriterStats)
    #: registered devices, so that their batches skip the checks (see `KnownDevices`)
    known: store.KnownDevices = field(default_factory=store.KnownDevices)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="anbu-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        conn = self._connect()
        while True:
            batch = self._collect()
            if not batch:
                if self._stop.is_set():
                    break
                continue
            conn = self._commit(conn, batch)
            if self.acknowledge is not None:
                self.acknowledge([it.ack for it in batch if it.ack is not None])
        conn.close()

    def _collect(self) -> list[Item]:
        q = self.q
        first = q.get(0.2)
        if first is None:
            return []
        batch = [first]
        n = len(first.decoded.rows)
        deadline = time.monotonic() + self.batch_ms / 1000
        while n < self.batch_max:
            it = q.get_nowait()
            if it is None:
                if not q.wait(deadline):
                    break
                continue
            batch.append(it)
            n += len(it.decoded.rows)
        return batch

    def _connect(self) -> psycopg.Connection[Any]:
        delay = 0.5
        while True:
            try:
                conn = connect(self.database_url)
                store.prepare(conn)
                self.known.forget()
                return conn
            except psycopg.OperationalError as e:
                log.warning("database unavailable (%s); retrying in %.1fs", e, delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _commit(self, conn: psycopg.Connection[Any], batch: list[Item]) -> psycopg.Connection[Any]:
        rows = Rows([r for it in batch for r in it.decoded.rows])
        dead = [d for it in batch for d in it.decoded.dead]
        while True:
            try:
                res = store.store_rows(conn, rows.rows, dead, self.unknown_devices, self.known)
                conn.commit()
                self.known.learn(res.learned, res.changes)  # committed: now they are registered
                break
            except psycopg.OperationalError as e:  # connection lost: keep the batch, reconnect
                log.warning("batch of %d not committed (%s); reconnecting", len(rows.rows), e)
                self.stats.retries += 1
                conn.close()
                conn = self._connect()
            except psycopg.Error as e:  # content the database refused: isolate it
                conn.rollback()
                log.error("batch refused by the database (%s); storing item by item", e)
                res = self._one_by_one(conn, batch)
                break
        s = self.stats
        s.messages += len(batch)
        s.readings += len(rows.rows)
        s.inserted += res.inserted
        s.dead_letters += res.dead_letters
        s.batches += 1
        s.direct_batches += res.direct
        s.last_commit = time.time()
        if self.on_commit is not None and rows.rows:
            self.on_commit(rows.readings)
        return conn

    def _one_by_one(self, conn: psycopg.Connection[Any], batch: list[Item]) -> store.BatchResult:
        """A batch the database refused: commit message by message, dead-letter the culprits."""
        inserted = dead_n = 0
        for it in batch:
            try:
                r = store.store_rows(conn, it.decoded.rows, it.decoded.dead, self.unknown_devices)
                conn.commit()
                inserted += r.inserted
                dead_n += r.dead_letters
            except psycopg.Error as e:
                conn.rollback()
                now = datetime.now(UTC)
                letters = [
                    DeadLetter(
                        now,
                        f"anbu/v1/{r.household_id}/{r.device_id}/{r.kind}",
                        repr(r).encode(),
                        "rejected_by_database",
                        str(e)[:500],
                    )
                    for r in it.decoded.readings
                ] + list(it.decoded.dead)
                with conn.cursor() as cur:
                    store.write_dead_letters(cur, letters)
                conn.commit()
                dead_n += len(letters)
        return store.BatchResult(inserted, dead_n)

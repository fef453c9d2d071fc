"""The ingester: a subscriber and a writer joined by a bounded queue."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from anbu.domain import Reading
from anbu.mqtt import BrokerAddress, Protocol, detect_protocol
from ingest.backlog import Backlog
from ingest.decode import Limits
from ingest.subscriber import Subscriber
from ingest.writer import BatchWriter, Item, WriterStats

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestConfig:
    database_url: str
    broker: BrokerAddress
    protocol: Literal["auto", "5", "3.1.1"] = "auto"
    client_id: str = "anbu-ingest-1"
    share_group: str = "anbu-ingest"
    session_expiry_s: int = 7 * 86_400
    limits: Limits = Limits()
    batch_max: int = 5_000
    batch_ms: int = 50
    queue_max: int = 20_000
    unknown_devices: Literal["register", "reject"] = "register"


class Ingester:
    def __init__(
        self, cfg: IngestConfig, on_commit: Callable[[Sequence[Reading]], None] | None = None
    ) -> None:
        protocol: Protocol = detect_protocol(cfg.broker) if cfg.protocol == "auto" else cfg.protocol
        self.protocol = protocol
        self._q: Backlog[Item] = Backlog(cfg.queue_max)
        self.writer = BatchWriter(
            cfg.database_url, self._q, cfg.batch_max, cfg.batch_ms, cfg.unknown_devices, on_commit
        )
        self.subscriber = Subscriber(
            cfg.broker,
            self._q,
            cfg.client_id,
            protocol,
            cfg.limits,
            cfg.share_group,
            cfg.session_expiry_s,
            cfg.queue_max,
        )

        self.writer.acknowledge = self.subscriber.acknowledge

    @property
    def stats(self) -> WriterStats:
        return self.writer.stats

    def start(self, timeout: float = 15.0) -> None:
        self.writer.start()
        self.subscriber.start()
        if not self.subscriber.connected.wait(timeout):
            raise ConnectionError(f"could not connect to {self.subscriber.addr.url()}")
        log.info(
            "ingesting over MQTT %s from %s as %s",
            self.protocol,
            self.subscriber.addr.url(),
            self.subscriber.subscription,
        )

    def stop(self) -> None:
        """Commit and acknowledge what was received, then disconnect."""
        self.subscriber.pause()
        self.writer.stop()
        self.subscriber.stop()

    def run_until(self, stop: threading.Event) -> None:
        self.start()
        try:
            stop.wait()
        finally:
            self.stop()

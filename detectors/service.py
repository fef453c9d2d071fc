"""The detect task: the engine on a clock, with its state kept in PostgreSQL.

`start` loads the stored state of every household, replays the readings stored since the
last checkpoint (what the engine had not seen when it stopped) and marks the restart, so the
first `tick` raises at once whatever came due while anbu was down. `tick` evaluates, stores
the findings, and every `save_every_s` stores the state and the checkpoint in the same
transaction. Only this module and `anbu.storage.detectors` do I/O; the engine stays pure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from anbu.domain import Reading
from anbu.storage import detectors as store
from detectors.engine import Engine
from detectors.findings import Finding
from detectors.settings import DetectorSettings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DetectorService:
    settings: DetectorSettings = field(default_factory=DetectorSettings)
    timezone: str = "Asia/Seoul"
    save_every_s: float = 300.0
    engine: Engine = field(init=False)
    _last_save: datetime | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.engine = Engine(self.settings, self.timezone)

    def start(self, conn: psycopg.Connection[Any], now: datetime,
              households: Sequence[tuple[str, str]] = ()) -> int:
        """Load stored state, add `households` (id, time zone) not yet known, replay the
        readings stored since the checkpoint. Returns the number of readings replayed."""
        e = self.engine
        states, skipped = store.load_states(conn, e.state_format(), e.knows_format)
        if skipped:
            log.warning("%d stored detector states have an unknown layout: relearning them",
                        skipped)
        upgraded = 0
        for st in states:
            e.adopt(st, fmt=st.format)
            upgraded += st.format is not None and st.format != e.state_format()
        if upgraded:
            log.info("%d stored detector states adopted from an older layout", upgraded)
        for hid, tz in households:
            if self.engine.index(hid) is None:
                self.engine.add_household(hid, tz)
        cp = store.load_checkpoint(conn)
        replay = store.readings_since(conn, cp[0]) if cp else []
        self.engine.observe(replay)
        self.engine.resume(now)
        self._last_save = now
        return len(replay)

    def observe(self, readings: Iterable[Reading]) -> None:
        self.engine.observe(readings)

    def tick(self, conn: psycopg.Connection[Any], now: datetime, force_save: bool = False
             ) -> list[Finding]:
        """Evaluate every household at `now`; store the findings (and, when due, the state)
        in one transaction. Returns the findings for the alert pipeline."""
        findings = self.engine.evaluate(now)
        with conn.transaction():
            store.save_findings(conn, findings)
            due = self._last_save is None or now - self._last_save >= timedelta(
                seconds=self.save_every_s)
            if force_save or due or findings:
                self.save(conn, now)
        return findings

    def save(self, conn: psycopg.Connection[Any], now: datetime) -> int:
        e = self.engine
        n = store.save_states(conn, (e.export(h) for h in e.households), e.state_format(),
                              checkpoint=now)
        self._last_save = now
        return n

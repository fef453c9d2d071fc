"""The composition root: ingest, detection, alerting and the web application, started together.

Data flows one way: readings committed by the ingester are observed by the detector engine;
a clock tick evaluates every household and hands the findings to the alert service; the alert
runner delivers and escalates; the web application serves staff; once a night the weekly
slow-decline job stores each household's daily activity and weekly report (never an alarm).
Everything is built here and torn down in reverse order; nothing is created at import time.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from anbu.clock import Clock, SystemClock
from anbu.domain import Reading
from anbu.settings import Settings
from anbu.storage import alerts as alert_store
from anbu.storage.detectors import note_last_signs
from anbu.storage.readings import FEED_CHANNEL

#: alert kinds whose condition ends when the detector sees the person again
LIFE_ENDS = frozenset({"inactivity", "overdue_return"})

log = logging.getLogger(__name__)


@dataclass(slots=True)
class System:
    settings: Settings
    database_url: str
    mqtt_url: str
    clock: Clock = field(default_factory=SystemClock)
    tick_s: float = 10.0
    #: serve the web application (off in tests that drive the API themselves)
    web: bool = True
    #: the weekly slow-decline job: a round at start (catching up missing days) and every
    #: `trend_every_s` after (finding work only once a household's day is over); 0: off
    trend_every_s: float = 600.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: households whose resident answered a check-in since the last tick
    _answered: set[str] = field(default_factory=set)
    #: households with readings since the last tick
    _touched: set[str] = field(default_factory=set)
    _parts: list[Any] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)
    _server: Any = None
    # the parts, built by start()
    detect: Any = None
    alerts: Any = None
    runner: Any = None
    ingester: Any = None

    def start(self) -> None:
        from alerts.channels import EmailNotifier, MqttNotifier, WebhookNotifier
        from alerts.outbox import OutboxWorker
        from alerts.policy import default_policy
        from alerts.routing import OfficeCalendar
        from alerts.runner import AlertRunner
        from alerts.service import AlertService
        from anbu.mqtt import JsonPublisher, parse_url
        from anbu.runtime import ingest_config
        from anbu.storage.db import connect
        from anbu.storage.migrate import migrate
        from detectors.service import DetectorService
        from ingest.service import Ingester

        s = self.settings
        with connect(self.database_url) as conn:
            migrate(conn)
        # listen before replaying: a batch committed meanwhile is then read twice (harmless),
        # never missed
        feed = connect(self.database_url, autocommit=True)
        feed.execute(f"LISTEN {FEED_CHANNEL}")
        with connect(self.database_url) as conn:
            homes = [
                (r[0], r[1])
                for r in conn.execute("SELECT id, timezone FROM households WHERE active")
            ]
            self.detect = DetectorService()
            replayed = self.detect.start(conn, self.clock.now(), homes)
        log.info(
            "detectors: %d households, %d readings replayed since the last checkpoint",
            len(homes),
            replayed,
        )
        self.alerts = AlertService(
            default_policy(s.alerts_ask_first), OfficeCalendar(), s.dashboard_url
        )
        secret = (
            s.webhook_secret.get_secret_value().encode()
            if s.webhook_secret
            else secrets.token_bytes(32)
        )
        if s.webhook_secret is None:
            log.warning("ANBU_WEBHOOK_SECRET is unset: webhooks are signed with a random key")
        publisher = JsonPublisher(parse_url(self.mqtt_url), f"{s.mqtt_client_id}-alerts")
        self._parts.append(publisher)
        notifiers: dict[str, Any] = {
            "webhook": WebhookNotifier(secret),
            "mqtt": MqttNotifier(publisher),
            "device": MqttNotifier(publisher),
        }
        if s.smtp_host:
            notifiers["email"] = EmailNotifier(s.smtp_host, s.smtp_port, s.smtp_sender)
        self.runner = AlertRunner(
            self.database_url,
            self.alerts,
            OutboxWorker(notifiers, failures=self.alerts),
            self.clock,
        )
        self.runner.start()
        # the engine reads what every ingest worker commits (this process's ingester, or
        # `anbu ingest` workers sharing the subscription), from the database's feed
        self.ingester = Ingester(ingest_config(s, self.database_url, self.mqtt_url))
        self.ingester.start()
        loops: list[tuple[Any, str, tuple[Any, ...]]] = [
            (self._feed_loop, "anbu-feed", (feed,)),
            (self._detect_loop, "anbu-detect", ()),
        ]
        if self.trend_every_s > 0:
            loops.append((self._trend_loop, "anbu-trend", ()))
        for target, name, args in loops:
            t = threading.Thread(target=target, name=name, args=args, daemon=True)
            t.start()
            self._threads.append(t)
        if self.web:
            self._serve()

    def stop(self) -> None:
        """Stop taking readings, then detection, then alerting, then the web (reverse order)."""
        self._stop.set()
        self.ingester.stop()
        for t in self._threads:
            if t.name != "anbu-web":
                t.join(15)
        self.runner.stop()
        for p in reversed(self._parts):
            p.close()
        if self._server is not None:
            # last, and waited for: the web's live feed must let go before the database goes
            self._server.should_exit = True
            for t in self._threads:
                if t.name == "anbu-web":
                    t.join(15)

    def wait(self) -> None:
        self._stop.wait()

    # -- internals -------------------------------------------------------------------------

    def _observe(self, readings: Sequence[Reading]) -> None:
        with self._lock:
            self.detect.observe(readings)
            self._touched.update(r.household_id for r in readings)
        answered = [
            r.household_id for r in readings if r.kind == "button" and r.data.get("action") == "ok"
        ]
        if answered:
            with self._lock:
                self._answered.update(answered)

    def tick(self, conn: Any) -> int:
        """One evaluation: findings become alerts; returns how many findings there were."""
        now = self.clock.now()
        with self._lock:
            findings = self.detect.tick(conn, now)
            answered, self._answered = self._answered, set()
            touched, self._touched = self._touched, set()
            engine = self.detect.engine
            signs = [(h, t) for h in touched if (t := engine.last_sign(h)) is not None]
        # the dashboard's "last sign of life": fresh every tick, not only when the engine's
        # whole state is saved (every few minutes)
        if signs:
            note_last_signs(conn, signs)
            conn.commit()
        for f in findings:
            self.alerts.handle(conn, to_alert_finding(f))
        for hid in answered:
            self.alerts.signs_of_life(
                conn, hid, now, "the resident answered the check-in", resident_answered=True
            )
        # alerts whose condition the engine now judges over end as auto-resolved (only before
        # anyone acknowledged them; after that a person closes them with an outcome). The
        # engine's judgement, not any single reading: a spurious PIR blip must not end an alarm.
        for a in alert_store.active(conn):
            if a.kind in LIFE_ENDS and a.state.value == "open":
                with self._lock:
                    level = self.detect.engine.reported_level(a.household_id, a.kind)
                if level == 0:
                    self.alerts.signs_of_life(
                        conn,
                        a.household_id,
                        now,
                        "signs of life returned",
                        kinds=frozenset({a.kind}),
                    )
        return len(findings)

    def _feed_loop(self, listen: Any) -> None:
        """Observe every batch of readings as it commits, from whichever worker stored it."""
        from anbu.storage.db import connect
        from anbu.storage.detectors import readings_since
        from anbu.storage.readings import committed_at

        conn = connect(self.database_url, autocommit=True)
        seen_at = datetime.now(UTC)  # the database's time, not the district's
        try:
            while not self._stop.is_set():
                try:
                    for n in listen.notifies(timeout=1.0):
                        self._observe(committed_at(conn, n.payload))
                        seen_at = datetime.now(UTC)
                        if self._stop.is_set():
                            break
                except psycopg.OperationalError as e:
                    log.warning("readings feed lost the database (%s); reconnecting", e)
                    if self._stop.wait(2):
                        break
                    with contextlib.suppress(psycopg.Error):
                        listen.close()
                        conn.close()
                    listen = connect(self.database_url, autocommit=True)
                    listen.execute(f"LISTEN {FEED_CHANNEL}")
                    conn = connect(self.database_url, autocommit=True)
                    # what was committed while the feed was away (with a margin; the engine
                    # takes a reading it has seen again without harm)
                    self._observe(readings_since(conn, seen_at))
                except Exception:
                    log.exception("readings feed failed; going on")
                    self._stop.wait(1)
        finally:
            listen.close()
            conn.close()

    def _detect_loop(self) -> None:
        from anbu.storage.db import connect

        conn = connect(self.database_url)
        try:
            while not self._stop.wait(self.tick_s):
                try:
                    self.tick(conn)
                except Exception:  # keep detecting; the failure is in the log
                    log.exception("detection tick failed")
                    conn.rollback()
        finally:
            conn.close()

    def _trend_loop(self) -> None:
        """The weekly slow-decline job (`detectors.trend_job`): everything it needs is in the
        database, so a round that fails, or a restart, loses nothing; the next round redoes
        what is missing."""
        from anbu.storage.db import connect
        from detectors.trend_job import TrendJob

        job = TrendJob()
        conn: psycopg.Connection[Any] | None = None
        try:
            while not self._stop.is_set():
                try:
                    if conn is None or conn.closed:
                        conn = connect(self.database_url)
                    res = job.run(conn, self.clock.now(), should_stop=self._stop.is_set)
                    if res.days or res.reports:
                        log.info("weekly trend: %s", res.as_dict())
                except Exception:  # keep going; the failure is in the log
                    log.exception("weekly trend round failed")
                    if conn is not None:
                        with contextlib.suppress(psycopg.Error):
                            conn.close()
                    conn = None
                if self._stop.wait(self.trend_every_s):
                    break
        finally:
            if conn is not None:
                conn.close()

    def _serve(self) -> None:
        import uvicorn

        from dashboard.app import create_app

        app = create_app(
            self.database_url,
            alerts=self.alerts,
            clock=self.clock,
            secure_cookies=self.settings.secure_cookies,
        )
        config = uvicorn.Config(
            app, host=self.settings.http_host, port=self.settings.http_port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        t = threading.Thread(target=self._server.run, name="anbu-web", daemon=True)
        t.start()
        self._threads.append(t)


def to_alert_finding(f: Any) -> Any:
    """A detector's finding as the alert side takes it.

    Device findings carry their device in the alert's identity (two dead sensors are two
    alerts); the explanation travels in both languages, Korean first, as staff read it.
    """
    from alerts.model import Finding

    device = f.device_id
    kind = f"{f.kind}/{device}" if f.kind.startswith("device.") and device else f.kind
    text = f"{f.explanation.ko}\n{f.explanation.en}"
    evidence = {
        **dict(f.evidence),
        "explanation_key": f.explanation.key,
        "explanation_params": dict(f.explanation.params),
    }
    return Finding(f.household_id, kind, f.severity, f.at, text, evidence)

"""Alerts end to end on the real database, a real webhook receiver and a real SMTP server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts.channels import EmailNotifier, WebhookNotifier, sign
from alerts.model import Finding, Outcome
from alerts.outbox import OutboxWorker
from alerts.policy import default_policy
from alerts.service import AlertService
from anbu.domain import Severity
from anbu.storage import alerts as store
from anbu.storage.db import connect
from tests.alert_receivers import Mailbox, Webhook, seed_district, smtp, webhook

pytestmark = pytest.mark.integration

SECRET = b"test-secret"
MON_10 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 10:00 in Seoul: office hours
M = timedelta(minutes=1)


def seed(conn: psycopg.Connection[object], hook: Webhook, mail: Mailbox) -> None:
    seed_district(conn, {s: f"{hook.url}/{s}" for s in ("p1", "p2", "lead", "centre")})
    conn.execute(
        "INSERT INTO staff_channels (staff_id, channel, address) VALUES"
        " ('p1', 'email', 'p1@district.invalid')"
    )
    conn.commit()


@contextlib.contextmanager
def district(
    database_url: str,
) -> Iterator[tuple[psycopg.Connection[object], Webhook, Mailbox, OutboxWorker]]:
    with webhook() as hook, smtp() as mail, connect(database_url) as conn:
        seed(conn, hook, mail)  # type: ignore[arg-type]
        worker = OutboxWorker(
            {"webhook": WebhookNotifier(SECRET), "email": EmailNotifier("127.0.0.1", mail.port)}
        )
        yield conn, hook, mail, worker  # type: ignore[misc]


def collapse(at: datetime, sev: Severity = Severity.ALARM) -> Finding:
    return Finding(
        "hh-1", "inactivity", sev, at, "no sign of life for 2 h 40 min", {"silence_s": 9600}
    )


def paths(hook: Webhook) -> list[str]:
    return [p["recipient"] for _, p in hook.received]


def test_collapse_alerts_the_planner_then_escalates_on_schedule_until_acknowledged(
    database_url: str,
) -> None:
    svc = AlertService(default_policy(ask_first=False))
    with district(database_url) as (conn, hook, mail, worker):
        # the detector re-reports the same finding every tick: still one alert
        for i in range(5):
            svc.handle(conn, collapse(MON_10 + i * M))
        [alert] = store.active(conn)
        assert worker.run_once(conn, MON_10 + 5 * M) == 2
        assert paths(hook) == ["p1"]
        headers, body = hook.received[0]
        assert body["alert_id"] == alert.id and body["severity"] == "alarm"
        raw = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
        assert headers["X-Anbu-Signature"] == sign(SECRET, headers["X-Anbu-Timestamp"], raw)
        [m] = mail.messages
        assert m["To"] == "p1@district.invalid" and "경보" in m["Subject"]

        assert svc.tick(conn, MON_10 + 14 * M) == 0
        assert svc.tick(conn, MON_10 + 15 * M) == 1  # backup and team lead
        worker.run_once(conn, MON_10 + 15 * M)
        assert sorted(paths(hook)[1:]) == ["lead", "p2"]
        assert svc.tick(conn, MON_10 + 30 * M) == 1  # the monitoring centre
        worker.run_once(conn, MON_10 + 30 * M)
        assert paths(hook)[3:] == ["centre"]
        assert svc.tick(conn, MON_10 + 45 * M) == 1  # reminder to the centre
        worker.run_once(conn, MON_10 + 45 * M)
        assert paths(hook)[4:] == ["centre"] and hook.received[4][1]["reminder"] is True

        assert alert.id is not None
        svc.acknowledge(conn, alert.id, "p1", MON_10 + 46 * M)
        assert svc.tick(conn, MON_10 + 120 * M) == 0  # reminders stop
        assert worker.run_once(conn, MON_10 + 120 * M) == 0
        svc.resolve(conn, alert.id, "p1", MON_10 + 130 * M, Outcome.RESIDENT_HELPED, "fell")
        actions = [e["action"] for e in store.events(conn, alert.id)]
        assert actions == [
            "opened",
            "escalated",
            "escalated",
            "escalated",
            "reminded",
            "acknowledged",
            "resolved",
        ]
        assert len(set(hook.keys())) == len(hook.keys())  # every delivery its own key


def test_audit_trail_cannot_be_edited(database_url: str) -> None:
    svc = AlertService(default_policy(ask_first=False))
    with district(database_url) as (conn, _hook, _mail, _worker):
        svc.handle(conn, collapse(MON_10))
        for sql in (
            "UPDATE alert_events SET actor = 'me'",
            "DELETE FROM alert_events",
            "TRUNCATE alert_events",
            "TRUNCATE delivery_attempts",
            "TRUNCATE access_log",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(sql)
            conn.rollback()


def test_away_mode_records_but_does_not_notify_and_sos_is_never_suppressed(
    database_url: str,
) -> None:
    svc = AlertService(default_policy(ask_first=False))
    with district(database_url) as (conn, hook, _mail, worker):
        conn.execute(
            "INSERT INTO suppressions (household_id, reason, starts_at, ends_at,"
            " created_by) VALUES ('hh-1', 'hospital', %s, %s, 'p1')",
            (MON_10 - 60 * M, MON_10 + 3 * 24 * 60 * M),
        )
        conn.commit()
        svc.handle(conn, collapse(MON_10))
        svc.handle(conn, Finding("hh-1", "sos", Severity.DANGER, MON_10 + M, "SOS pressed"))
        svc.tick(conn, MON_10 + 60 * M)
        worker.run_once(conn, MON_10 + 60 * M)
        kinds = {p["kind"] for _, p in hook.received}
        assert kinds == {"sos"}
        assert {a.kind for a in store.active(conn)} == {"inactivity", "sos"}
        suppressed = [a for a in store.active(conn) if a.kind == "inactivity"][0]
        assert suppressed.id is not None
        assert [e["action"] for e in store.events(conn, suppressed.id)] == ["opened", "suppressed"]


def test_a_receiver_down_for_ten_minutes_gets_every_delivery_once_back(database_url: str) -> None:
    svc = AlertService(default_policy(ask_first=False))
    with district(database_url) as (conn, hook, _mail, worker):
        hook.down = True
        svc.handle(conn, collapse(MON_10))
        t = MON_10
        while t < MON_10 + 10 * M:  # the worker keeps trying with backoff
            worker.run_once(conn, t)
            t += 30 * timedelta(seconds=1)
        assert hook.received == []
        hook.down = False
        while t < MON_10 + 16 * M:
            worker.run_once(conn, t)
            t += 30 * timedelta(seconds=1)
        assert paths(hook) == ["p1"]
        attempts = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE ok) FROM delivery_attempts"
        ).fetchone()
        assert attempts is not None and attempts[0] > 3 and attempts[1] == 2  # webhook + e-mail


def test_crash_after_commit_before_delivery_delivers_exactly_once(database_url: str) -> None:
    with district(database_url) as (conn, hook, mail, worker):
        # another process commits the alert and its outbox rows, then dies by SIGKILL
        code = (
            "import os, signal, sys\n"
            "from datetime import datetime\n"
            "from alerts.model import Finding, Severity\n"
            "from alerts.policy import default_policy\n"
            "from alerts.service import AlertService\n"
            "from anbu.storage.db import connect\n"
            "conn = connect(sys.argv[1])\n"
            "AlertService(default_policy(ask_first=False)).handle(conn, Finding('hh-1',"
            " 'inactivity', Severity.ALARM, datetime.fromisoformat(sys.argv[2]), 'x'))\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n"
        )
        p = subprocess.run(
            [sys.executable, "-c", code, database_url, MON_10.isoformat()], env=os.environ.copy()
        )
        assert p.returncode == -signal.SIGKILL
        assert hook.received == [] and mail.messages == []
        # after the restart the worker finds the committed deliveries and sends each once
        worker.run_once(conn, MON_10 + M)
        worker.run_once(conn, MON_10 + 2 * M)
        assert len(hook.received) == 1 and len(set(hook.keys())) == 1
        assert len(mail.messages) == 1


def test_a_committed_delivery_wakes_the_deliverer(database_url: str) -> None:
    svc = AlertService(default_policy(ask_first=False))
    with (
        district(database_url) as (conn, _hook, _mail, _worker),
        connect(database_url, autocommit=True) as listen,
    ):
        listen.execute("LISTEN anbu_outbox")
        svc.handle(conn, collapse(MON_10))
        woke = [n.channel for n in listen.notifies(timeout=2.0, stop_after=1)]
    assert woke == ["anbu_outbox"]


def test_ask_first_sends_a_checkin_to_the_home_and_the_residents_answer_resolves_it(
    database_url: str, mqtt_url: str
) -> None:
    import threading

    import paho.mqtt.client as mqtt

    from alerts.channels import MqttNotifier
    from anbu.mqtt import JsonPublisher, detect_protocol, make_client, parse_url

    addr = parse_url(mqtt_url)
    got: list[dict[str, object]] = []
    ready = threading.Event()
    sub = make_client(addr, f"anbu-test-home-{os.getpid()}", detect_protocol(addr))
    sub.on_message = lambda c, u, m: got.append(json.loads(m.payload))
    sub.on_subscribe = lambda *a: ready.set()
    sub.on_connect = lambda c, *a: c.subscribe("anbu/v1/hh-1/gw-1/command", qos=1)
    sub.connect(addr.host, addr.port)
    sub.loop_start()
    assert ready.wait(10)
    pub = JsonPublisher(addr, f"anbu-test-alerts-{os.getpid()}")
    svc = AlertService(default_policy(ask_first=True))
    try:
        with district(database_url) as (conn, hook, _mail, _w):
            conn.execute(
                "INSERT INTO device_status (household_id, device_id, online, role,"
                " status_at) VALUES ('hh-1', 'gw-1', true, 'gateway', %s)",
                (MON_10,),
            )
            conn.commit()
            worker = OutboxWorker({"device": MqttNotifier(pub), "webhook": WebhookNotifier(SECRET)})
            svc.handle(conn, collapse(MON_10))
            assert worker.run_once(conn, MON_10) == 1
            deadline = time.monotonic() + 10
            while not got and time.monotonic() < deadline:
                time.sleep(0.05)
            [cmd] = got
            assert cmd["command"] == "checkin" and cmd["idempotency_key"]
            assert hook.received == []  # staff are not told while the resident may answer
            # the resident presses "I'm OK" within the ask-first window
            [answered] = svc.signs_of_life(
                conn, "hh-1", MON_10 + 3 * M, "button ok", resident_answered=True
            )
            assert answered.outcome is Outcome.RESIDENT_ANSWERED
            assert svc.tick(conn, MON_10 + 20 * M) == 0
            worker.run_once(conn, MON_10 + 20 * M)
            assert hook.received == []
    finally:
        pub.close()
        sub.disconnect()
        sub.loop_stop()
        assert isinstance(sub, mqtt.Client)


def test_the_runner_survives_a_failing_round(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug or bad data in one delivery round must not end delivery for everyone."""
    from alerts.runner import AlertRunner

    class Flaky(OutboxWorker):
        bugs = 1

        def run_once(self, conn: psycopg.Connection[object], now: datetime) -> int:  # type: ignore[override]
            if self.bugs:
                self.bugs -= 1
                raise RuntimeError("a bug in one round")
            return super().run_once(conn, now)  # type: ignore[arg-type]

    svc = AlertService(default_policy(ask_first=False))
    with district(database_url) as (conn, hook, _mail, _worker):
        worker = Flaky({"webhook": WebhookNotifier(SECRET)})

        class Clock:
            def now(self) -> datetime:
                return MON_10

        runner = AlertRunner(database_url, svc, worker, Clock())
        runner.start()
        try:
            svc.handle(conn, collapse(MON_10))
            deadline = time.monotonic() + 15
            while not hook.received and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            runner.stop()
    assert worker.bugs == 0 and "delivery round failed" in caplog.text
    assert hook.received and '"hh-1"' in json.dumps(hook.received[0][1])


def test_ask_first_without_a_gateway_does_not_keep_staff_waiting(database_url: str) -> None:
    """Nobody can answer a check-in a home has no gateway for: staff are told at once."""
    svc = AlertService(default_policy(ask_first=True))
    with district(database_url) as (conn, _hook, _mail, _worker):
        a = svc.handle(conn, collapse(MON_10))
        conn.commit()
        recipients = {
            r[0] for r in conn.execute("SELECT recipient FROM outbox WHERE alert_id = %s", (a.id,))
        }
        actions = [e["action"] for e in store.events(conn, a.id)]  # type: ignore[arg-type]
    assert recipients == {"p1"}  # the planner, now, not after the 10-minute check-in
    assert "check_in_unreachable" in actions

"""Deliveries that fail for good, on the real database and real HTTP receivers: recorded as an
alert event, announced on the board, escalated to the centre once (across restarts and a crash),
and a check-in that cannot reach the resident does not hold the staff back."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from alerts.channels import WebhookNotifier
from alerts.model import Finding
from alerts.outbox import OutboxWorker
from alerts.policy import default_policy
from alerts.service import AlertService
from anbu.domain import Severity
from anbu.embedded import free_port
from anbu.storage import alerts as store
from anbu.storage.db import connect
from tests.alert_receivers import Webhook, seed_district, webhook

pytestmark = pytest.mark.integration

SECRET = b"test-secret"
MON_10 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 10:00 in Seoul: office hours
M = timedelta(minutes=1)
H = timedelta(hours=1)


def all_to(rx: Webhook) -> dict[str, str]:
    return {s: f"{rx.url}/{s}" for s in ("p1", "p2", "lead", "centre")}


def collapse(at: datetime, sev: Severity = Severity.ALARM) -> Finding:
    return Finding("hh-1", "inactivity", sev, at, "no sign of life for 2 h 40 min", {"s": 1})


def worker(svc: AlertService) -> OutboxWorker:
    return OutboxWorker({"webhook": WebhookNotifier(SECRET)}, failures=svc)


def failed_events(conn: psycopg.Connection[Any], alert_id: int) -> list[dict[str, Any]]:
    return [e for e in store.events(conn, alert_id) if e["action"] == "delivery_failed"]


def board(listen: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [json.loads(n.payload) for n in listen.notifies(timeout=1.0)]


def outbox_row(conn: psycopg.Connection[Any], recipient: str) -> tuple[int, str, int]:
    row = conn.execute(
        "SELECT id, status, attempts FROM outbox WHERE recipient = %s", (recipient,)
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1]), int(row[2])


def test_a_planner_webhook_answering_400_tells_the_centre_once(database_url: str) -> None:
    svc = AlertService(default_policy(ask_first=False), dashboard_url="https://anbu.example")
    with (
        webhook({"p1": 400}) as rx,
        connect(database_url) as conn,
        connect(database_url, autocommit=True) as listen,
    ):
        seed_district(conn, all_to(rx))
        svc.handle(conn, collapse(MON_10))
        [alert] = store.active(conn)
        assert alert.id is not None
        conn.commit()  # so that the worker's transaction is its own, and commits
        listen.execute("LISTEN anbu_board")

        assert worker(svc).run_once(conn, MON_10) == 0  # the planner's gateway refused it
        p1_id, status, attempts = outbox_row(conn, "p1")
        assert (status, attempts) == ("failed", 1)
        [event] = failed_events(conn, alert.id)
        assert event["detail"] == {
            "outbox_id": p1_id,
            "recipient": "p1",
            "channel": "webhook",
            "error": "permanent: HTTP 400",
            "attempts": 1,
            "response": "notify_centre",
        }
        [shown] = [c for c in board(listen) if "delivery_failed" in c]
        assert shown["alert_id"] == alert.id and shown["household_id"] == "hh-1"
        assert shown["delivery_failed"] == {
            "outbox_id": p1_id,
            "channel": "webhook",
            "recipient": "p1",
        }
        assert shown["raised"] is False

        # the centre's notification was queued with the failure: due at once
        assert worker(svc).run_once(conn, MON_10) == 1
        [told] = rx.to("centre")
        assert told["alert_id"] == alert.id and told["recipient"] == "centre"
        assert told["routing"] == "delivery to p1 (webhook) failed: centre"
        assert told["url"] == f"https://anbu.example/alerts/{alert.id}"
        assert told["delivery_failed"] == {
            "outbox_id": p1_id,
            "recipient": "p1",
            "channel": "webhook",
            "error": "permanent: HTTP 400",
            "attempts": 1,
        }
        [ds] = store.deliveries(conn, [alert.id]).values()
        assert [(d["recipient"], d["status"], d["last_error"]) for d in ds] == [
            ("p1", "failed", "permanent: HTTP 400"),
            ("centre", "sent", None),
        ]
        assert ds[1]["sent_at"] == MON_10 and ds[0]["sent_at"] is None
        assert set(ds[0]) == {
            "id",
            "channel",
            "recipient",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "sent_at",
        }

    # a restart: a new process's worker and connection, run again and later: nothing more
    with webhook() as rx2, connect(database_url) as conn2:
        conn2.execute(
            "UPDATE staff_channels SET address = replace(address, %s, %s)", (rx.url, rx2.url)
        )
        conn2.commit()
        again = worker(AlertService(default_policy(ask_first=False)))
        for t in (MON_10, MON_10 + M, MON_10 + 2 * H, MON_10 + 30 * H):
            assert again.run_once(conn2, t) == 0
        assert rx2.calls == []
        assert len(failed_events(conn2, alert.id)) == 1
        n = conn2.execute("SELECT count(*) FROM outbox WHERE recipient = 'centre'").fetchone()
        assert n == (1,)


def test_a_planner_receiver_down_past_give_up_after_tells_the_centre_once(
    database_url: str,
) -> None:
    svc = AlertService(default_policy(ask_first=False))
    down = f"http://127.0.0.1:{free_port()}/hook/p1"  # nothing listens there
    with webhook() as rx, connect(database_url) as conn:
        seed_district(conn, {**all_to(rx), "p1": down})
        svc.handle(conn, collapse(MON_10))
        [alert] = store.active(conn)
        assert alert.id is not None
        w = worker(svc)
        for hour in range(24):  # retried with backoff for the whole day (simulated clock)
            assert w.run_once(conn, MON_10 + hour * H) == 0
        p1_id, status, attempts = outbox_row(conn, "p1")
        assert (status, attempts) == ("pending", 24)
        assert failed_events(conn, alert.id) == [] and rx.calls == []

        assert w.run_once(conn, MON_10 + 24 * H) == 0  # give_up_after (24 h) has passed
        assert outbox_row(conn, "p1") == (p1_id, "failed", 25)
        [event] = failed_events(conn, alert.id)
        assert event["detail"]["response"] == "notify_centre"
        assert event["detail"]["error"].startswith("retryable: ConnectionRefusedError")
        assert w.run_once(conn, MON_10 + 24 * H) == 1
        [told] = rx.to("centre")
        assert told["delivery_failed"]["outbox_id"] == p1_id
        assert told["delivery_failed"]["attempts"] == 25
        assert told["delivery_failed"]["error"] == event["detail"]["error"]
        for t in (MON_10 + 25 * H, MON_10 + 48 * H):
            assert worker(AlertService()).run_once(conn, t) == 0
        assert len(rx.to("centre")) == 1 and len(failed_events(conn, alert.id)) == 1


def test_a_crash_while_escalating_a_failure_loses_nothing_and_repeats_nothing(
    database_url: str,
) -> None:
    svc = AlertService(default_policy(ask_first=False))
    with webhook({"p1": 400}) as rx, connect(database_url) as conn:
        seed_district(conn, all_to(rx))
        svc.handle(conn, collapse(MON_10))
        [alert] = store.active(conn)
        assert alert.id is not None
        # another process sends, records the failure and its escalation, and dies by SIGKILL
        # before its transaction commits
        code = (
            "import os, signal, sys\n"
            "from datetime import datetime\n"
            "from alerts.channels import WebhookNotifier\n"
            "from alerts.outbox import OutboxWorker\n"
            "from alerts.policy import default_policy\n"
            "from alerts.service import AlertService\n"
            "from anbu.storage.db import connect\n"
            "class Dies(AlertService):\n"
            "    def delivery_failed(self, conn, failed, now):\n"
            "        AlertService.delivery_failed(self, conn, failed, now)\n"
            "        os.kill(os.getpid(), signal.SIGKILL)\n"
            "w = OutboxWorker({'webhook': WebhookNotifier(b'x')},"
            " failures=Dies(default_policy(ask_first=False)))\n"
            "w.run_once(connect(sys.argv[1]), datetime.fromisoformat(sys.argv[2]))\n"
        )
        p = subprocess.run(
            [sys.executable, "-c", code, database_url, MON_10.isoformat()], env=os.environ.copy()
        )
        assert p.returncode == -signal.SIGKILL
        assert len(rx.to("p1")) == 1  # it was sent (and refused) ...
        assert outbox_row(conn, "p1")[1:] == ("pending", 0)  # ... but nothing of it committed
        assert failed_events(conn, alert.id) == []

        w = worker(svc)
        w.run_once(conn, MON_10 + M)  # tried again, refused again, escalated now
        w.run_once(conn, MON_10 + M)
        w.run_once(conn, MON_10 + 2 * M)
        keys = {h["Idempotency-Key"] for path, h, _ in rx.calls if path.endswith("/p1")}
        assert len(rx.to("p1")) == 2 and len(keys) == 1  # the same delivery, twice
        assert outbox_row(conn, "p1")[1:] == ("failed", 1)
        assert len(failed_events(conn, alert.id)) == 1 and len(rx.to("centre")) == 1


def test_a_failed_check_in_lets_the_staff_steps_follow_at_once(database_url: str) -> None:
    svc = AlertService(default_policy(ask_first=True))  # alarm: check-in 10 min, 0/15/30
    with webhook() as rx, connect(database_url) as conn:
        seed_district(conn, all_to(rx))
        conn.execute(
            "INSERT INTO device_status (household_id, device_id, online, role, status_at)"
            " VALUES ('hh-1', 'gw-1', true, 'gateway', %s)",
            (MON_10,),
        )
        conn.commit()
        svc.handle(conn, collapse(MON_10))
        [alert] = store.active(conn)
        assert alert.id is not None
        assert outbox_row(conn, "resident")[1] == "pending"
        # this deliverer has no way to the home's device: the check-in fails for good
        w = worker(svc)
        assert w.run_once(conn, MON_10 + M) == 0
        device_id, status, _ = outbox_row(conn, "resident")
        assert status == "failed"
        [event] = failed_events(conn, alert.id)
        assert event["detail"]["response"] == "staff_steps_now"
        assert event["detail"]["error"] == "permanent: no notifier configured for channel 'device'"
        # the planner is told now, not when the 10 minutes to answer have run out
        assert w.run_once(conn, MON_10 + M) == 1
        assert [b["recipient"] for _, _, b in rx.calls] == ["p1"]
        assert rx.to("p1")[0]["step"] == 2
        # and the later steps count from the failure: backup and team lead 15 min after it
        assert svc.tick(conn, MON_10 + 15 * M) == 0
        assert svc.tick(conn, MON_10 + 16 * M) == 1
        w.run_once(conn, MON_10 + 16 * M)
        assert sorted(b["recipient"] for _, _, b in rx.calls[1:]) == ["lead", "p2"]
        assert rx.to("centre") == []  # a check-in is not a staff delivery: no centre alarm
        actions = [e["action"] for e in store.events(conn, alert.id)]
        assert actions == ["opened", "escalated", "delivery_failed", "escalated", "escalated"]
        [(_, ds)] = store.deliveries(conn, [alert.id]).items()
        assert ds[0]["id"] == device_id and ds[0]["channel"] == "device"


def test_the_centre_not_reached_is_logged_and_shown_not_escalated(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    svc = AlertService(default_policy(ask_first=False))
    with webhook({"centre": 410}) as rx, connect(database_url) as conn:
        seed_district(conn, all_to(rx))
        svc.handle(conn, collapse(MON_10, Severity.DANGER))  # the centre and the planner at once
        [alert] = store.active(conn)
        assert alert.id is not None
        with caplog.at_level(logging.ERROR, logger="alerts.service"):
            assert worker(svc).run_once(conn, MON_10) == 1
        [event] = failed_events(conn, alert.id)
        assert event["detail"]["recipient"] == "centre"
        assert event["detail"]["response"] == "centre_unreachable"
        assert any("monitoring centre" in r.getMessage() for r in caplog.records)
        assert worker(svc).run_once(conn, MON_10 + M) == 0  # nothing further was queued
        assert len(rx.to("centre")) == 1 and len(rx.to("p1")) == 1
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (2,)


def test_deliveries_lists_each_alerts_outbox_rows_and_knows_alerts_without_any(
    database_url: str,
) -> None:
    svc = AlertService(default_policy(ask_first=False))
    with webhook() as rx, connect(database_url) as conn:
        seed_district(conn, all_to(rx))
        a = svc.handle(conn, collapse(MON_10))
        assert a.id is not None
        out = store.deliveries(conn, [a.id, a.id + 1000])
        assert list(out) == [a.id, a.id + 1000] and out[a.id + 1000] == []
        [d] = out[a.id]
        assert (d["recipient"], d["channel"], d["status"], d["attempts"]) == (
            "p1",
            "webhook",
            "pending",
            0,
        )
        assert store.deliveries(conn, []) == {}

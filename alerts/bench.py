"""`anbu bench alerts`: from a finding to the planner's webhook, with many alerts in flight.

N households each get a finding at once (from several threads, as detectors on several
workers would); the live runner (NOTIFY-driven deliverer) sends each to the household's
planner's webhook (after hours: the monitoring centre's). The receiver is a real HTTP server
in its own process. Latency is from just before `AlertService.handle` is called to the
receiver reading the request (both clocks are this machine's).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import numpy as np

from alerts.channels import WebhookNotifier
from alerts.model import Finding
from alerts.outbox import OutboxWorker
from alerts.policy import default_policy
from alerts.runner import AlertRunner
from alerts.service import AlertService
from anbu.domain import Severity
from anbu.embedded import free_port
from anbu.storage.db import connect, recreate_database
from anbu.storage.registry import (
    DistrictRow,
    HouseholdRow,
    StaffRow,
    assign,
    upsert_districts,
    upsert_households,
    upsert_staff,
)


def run(alerts: int, admin_url: str, submitters: int = 4) -> dict[str, Any]:
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "alerts.bench_receiver", str(port), str(alerts)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert receiver.stdout is not None
    if receiver.stdout.readline().strip() != "READY":
        raise RuntimeError("the webhook receiver did not start")
    db = recreate_database(admin_url, "anbu_bench_alerts")
    hids = [f"bench-{i:05d}" for i in range(alerts)]
    with connect(db) as conn:
        upsert_districts(conn, [DistrictRow("b", "벤치", "bench")])
        planners = [
            StaffRow(f"p{i}", f"planner{i}", f"planner {i}", "planner", "b") for i in range(20)
        ]
        upsert_staff(conn, planners)
        upsert_households(conn, [HouseholdRow(h, "b", "", h) for h in hids])
        for i, h in enumerate(hids):
            assign(conn, h, planners[i % 20].id, "primary")
        # planners in office hours, the monitoring centre after hours: both reach the receiver
        for sid in [p.id for p in planners] + ["centre"]:
            conn.execute(
                "INSERT INTO staff_channels (staff_id, channel, address)"
                " VALUES (%s, 'webhook', %s)",
                (sid, f"http://127.0.0.1:{port}/{sid}"),
            )
        conn.commit()

    service = AlertService(default_policy(ask_first=False))
    worker = OutboxWorker({"webhook": WebhookNotifier(b"bench")}, failures=service)
    runner = AlertRunner(db, service, worker)
    runner.start()
    submitted: dict[str, float] = {}
    local = threading.local()

    def submit(h: str) -> int:
        if not hasattr(local, "conn"):
            local.conn = connect(db)
        submitted[h] = time.time()
        a = service.handle(
            local.conn, Finding(h, "inactivity", Severity.ALARM, datetime.now(UTC), "bench")
        )
        assert a.id is not None
        return a.id

    t0 = time.perf_counter()
    with ThreadPoolExecutor(submitters) as pool:
        ids = list(pool.map(submit, hids))
    submit_s = time.perf_counter() - t0
    try:
        out, _ = receiver.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        receiver.kill()
        raise RuntimeError("not every alert reached the webhook within 3 minutes") from None
    finally:
        runner.stop()
    received = {int(k): v for k, v in json.loads(out).items()}
    lat = np.array([received[a] - submitted[h] for a, h in zip(ids, hids, strict=True)]) * 1000
    return {
        "alerts": alerts,
        "delivered": len(received),
        "submit_s": round(submit_s, 3),
        "p50_finding_to_webhook_ms": round(float(np.percentile(lat, 50)), 1),
        "p99_finding_to_webhook_ms": round(float(np.percentile(lat, 99)), 1),
        "max_finding_to_webhook_ms": round(float(lat.max()), 1),
    }

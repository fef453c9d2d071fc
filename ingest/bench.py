"""`anbu bench ingest`: publisher process -> broker -> ingester -> committed rows.

In the same run it measures two ceilings with the same messages: a subscriber that only counts
them (the broker and MQTT client cost), and the same rows loaded with one bare COPY (the
database cost). `ratio_vs_ceiling` is the pipeline's rate over the smaller ceiling.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import psutil
import psycopg
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import SecretStr

from anbu import embedded
from anbu.contract import SUBSCRIPTION
from anbu.domain import Reading
from anbu.mqtt import Protocol, detect_protocol, make_client, parse_url
from anbu.storage import readings as store
from anbu.storage.db import connect, recreate_database
from anbu.storage.registry import DistrictRow, HouseholdRow, upsert_districts, upsert_households
from ingest import bench_publisher as pub
from ingest.decode import decode


def run(
    messages: int,
    batch: int,
    households: int,
    database_url: str | None,
    mqtt_url: str | None,
    workers: int = 1,
) -> dict[str, Any]:
    from anbu.runtime import endpoints
    from anbu.settings import Settings

    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": SecretStr(database_url)})
    if mqtt_url:
        settings = settings.model_copy(update={"mqtt_url": SecretStr(mqtt_url)})
    with contextlib.ExitStack() as stack:
        if settings.mqtt_url is None and shutil.which("mosquitto"):
            # a private broker tuned as in deploy/mosquitto.conf; the system one may keep
            # mosquitto's default of 1000 queued messages per client and drop the rest
            settings = settings.model_copy(
                update={"mqtt_url": SecretStr(stack.enter_context(embedded.mosquitto()))}
            )
            broker = "private mosquitto (deploy settings)"
        else:
            broker = "configured"
        ep = stack.enter_context(endpoints(settings, prefer_local=True))
        db = _fresh_database(ep.database_url, "anbu_bench", households)
        protocol = detect_protocol(parse_url(ep.mqtt_url))
        total = messages * batch
        broker_s, counter_cpu_s = _broker_only(ep.mqtt_url, protocol, messages, batch, households)
        copy_s = _copy_only(db, messages, batch, households)
        ingest_s, latencies, worker_cpu_s = _pipeline(
            db, ep.mqtt_url, protocol, messages, batch, households, workers
        )
        with connect(db) as conn:
            stored = conn.execute("SELECT count(*) FROM readings").fetchone()[0]  # type: ignore[index]
    rate = total / ingest_s
    ceiling = min(total / broker_s, total / copy_s)
    return {
        "messages": messages,
        "readings_per_message": batch,
        "workers": workers,
        "readings": total,
        "stored": stored,
        "mqtt_protocol": protocol,
        "broker": broker,
        "readings_per_s": round(rate),
        "broker_only_per_s": round(total / broker_s),
        "copy_only_per_s": round(total / copy_s),
        "ratio_vs_ceiling": round(rate / ceiling, 3),
        "p50_commit_ms": round(float(np.percentile(latencies, 50)) * 1000, 1),
        # CPU the ingest workers spent per reading: robust to other load on the machine
        # CPU of the paho subscriber that only counts, per message: paho's own floor
        "broker_only_cpu_us_per_message": round(counter_cpu_s / messages * 1e6, 1),
        "worker_cpu_us_per_reading": round(worker_cpu_s / total * 1e6, 1),
        # from the reading's timestamp (set when published) to its storing transaction
        "p99_commit_ms": round(float(np.percentile(latencies, 99)) * 1000, 1),
    }


def _fresh_database(url: str, name: str, households: int) -> str:
    db = recreate_database(url, name)
    with connect(db) as conn:
        upsert_districts(conn, [DistrictRow("bench", "벤치", "bench")])
        upsert_households(
            conn,
            [HouseholdRow(pub.bench_household(i), "bench", "", "bench") for i in range(households)],
        )
        conn.commit()
    return db


def _publish(
    url: str, protocol: Protocol, messages: int, batch: int, households: int
) -> tuple[subprocess.Popen[str], float]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ingest.bench_publisher",
            url,
            protocol,
            str(messages),
            str(batch),
            str(households),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("START"):
        raise RuntimeError(f"publisher failed: {line!r}")
    return proc, float(line.split()[1])


def _broker_only(
    url: str, protocol: Protocol, messages: int, batch: int, households: int
) -> tuple[float, float]:
    addr = parse_url(url)
    client = make_client(addr, f"anbu-bench-count-{os.getpid()}", protocol)
    got = 0
    done, ready = threading.Event(), threading.Event()
    last = [0.0]

    def on_message(c: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal got
        got += 1
        if got >= messages:
            last[0] = time.time()
            done.set()

    client.on_message = on_message
    client.on_subscribe = lambda *a: ready.set()
    props = None
    if protocol == "5":
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.ReceiveMaximum = 20_000
    client.connect(addr.host, addr.port, keepalive=60, properties=props)
    client.subscribe(SUBSCRIPTION, qos=1)
    client.loop_start()
    ready.wait(10)
    cpu0 = _cpu_s(os.getpid())
    proc, start = _publish(url, protocol, messages, batch, households)
    finished = done.wait(600)
    cpu = _cpu_s(os.getpid()) - cpu0
    proc.wait(60)
    client.disconnect()
    client.loop_stop()
    if not finished:
        raise RuntimeError(f"broker-only: {got} of {messages} messages arrived (broker dropped?)")
    return last[0] - start, cpu


def _copy_only(db: str, messages: int, batch: int, households: int) -> float:
    now = datetime.now(UTC)
    rows: list[Reading] = []
    for topic, payload in pub.messages(messages, batch, households):
        rows.extend(decode(topic, payload, now).readings)
    with connect(db) as conn:
        conn.execute("CREATE TABLE copy_ceiling (LIKE readings INCLUDING ALL)")
        conn.commit()
        t0 = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY copy_ceiling ({store.COLUMNS}) FROM STDIN") as cp,
        ):
            for r in rows:
                cp.write_row(store._row(r))
        conn.commit()
        elapsed = time.perf_counter() - t0
        conn.execute("DROP TABLE copy_ceiling")
        conn.commit()
    return elapsed


def _pipeline(
    db: str,
    url: str,
    protocol: Protocol,
    messages: int,
    batch: int,
    households: int,
    workers: int,
) -> tuple[float, np.ndarray, float]:
    """N `anbu ingest` processes in one shared-subscription group; time until all committed."""
    total = messages * batch
    tag = f"bench{os.getpid()}"
    procs = [_worker(db, url, f"anbu-{tag}-{i}", tag) for i in range(workers)]
    cpu0 = sum(_cpu_s(p.pid) for p in procs)
    try:
        proc, start = _publish(url, protocol, messages, batch, households)
        end = time.monotonic() + 900
        with connect(db) as conn:
            # poll gently (counting is work for the same CPUs); the finish time comes from the
            # data: the last storing transaction
            while True:
                n = _count(conn)
                if n >= total or time.monotonic() > end:
                    break
                time.sleep(0.5)
            proc.wait(60)
            if n < total:
                raise RuntimeError(f"pipeline: {n} of {total} readings committed")
            lat = conn.execute(
                "SELECT extract(epoch FROM stored_at - time) FROM readings"
            ).fetchall()
            row = conn.execute("SELECT extract(epoch FROM max(stored_at)) FROM readings").fetchone()
            done_at = float(row[0]) if row else time.time()
        cpu_s = sum(_cpu_s(p.pid) for p in procs) - cpu0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
    return done_at - start, np.array([float(r[0]) for r in lat]), cpu_s


def _cpu_s(pid: int) -> float:
    """CPU seconds a process has used: a measure that other load on the machine does not skew."""
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def _count(conn: psycopg.Connection[Any]) -> int:
    conn.commit()  # a fresh snapshot each time
    row = conn.execute("SELECT count(*) FROM readings").fetchone()
    return int(row[0]) if row else 0


def _worker(db: str, url: str, client_id: str, group: str) -> subprocess.Popen[str]:
    """Start `anbu ingest` and return once it has subscribed."""
    env = {
        **os.environ,
        "ANBU_DATABASE_URL": db,
        "ANBU_MQTT_URL": url,
        "ANBU_MQTT_CLIENT_ID": client_id,
        "ANBU_MQTT_SHARE_GROUP": group,
        "ANBU_MQTT_SESSION_EXPIRY_S": "0",
        "ANBU_LOG_LEVEL": "INFO",
    }
    p = subprocess.Popen(
        [sys.executable, "-m", "anbu", "ingest"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert p.stderr is not None
    for line in p.stderr:
        if "subscribed to" in line:
            break
    else:
        raise RuntimeError(f"ingest worker exited with {p.wait()}")
    # keep draining its log so that the pipe never blocks it
    threading.Thread(target=p.stderr.read, daemon=True).start()
    return p

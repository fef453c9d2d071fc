"""Benchmarks behind `anbu bench simulate` and `anbu bench replay` (each returns one dict).

* simulate: generate a fleet as fast as possible (no publishing, no disk) and count messages.
* replay: record one hour of a fleet (during the morning, when homes are busy), replay it at
  10x to a real broker with QoS 1 while a subscriber counts what arrives and in which order;
  lateness is measured per send, from its deadline to the moment paho accepted it.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from simulators.clock import Pacer
from simulators.fleet import DEFAULT_START, Fleet
from simulators.recording import open_recording, write_recording
from simulators.replay import play


def bench_simulate(households: int = 200, days: float = 7.0, seed: int = 1,
                   scenario_mix: str = "none") -> dict[str, Any]:
    t0 = time.perf_counter()
    fleet = Fleet(households, days, seed, scenario_mix=scenario_mix)
    n = 0
    for batch in fleet.batches():
        n += len(batch)
    dt = time.perf_counter() - t0
    return {
        "bench": "simulate",
        "households": households,
        "days": days,
        "messages": n,
        "seconds": round(dt, 3),
        "messages_per_s": round(n / dt),
        "messages_per_household_day": round(n / (households * days), 1),
    }


def bench_replay(mqtt_url: str, households: int = 200, minutes: float = 60.0,
                 speed: float = 10.0, seed: int = 1) -> dict[str, Any]:
    from simulators.publish import MqttCollector, MqttPublisher, parse_url

    target = parse_url(mqtt_url)
    # household ids unique to this run, so other traffic on a shared broker is told apart
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    fleet = Fleet(households, minutes / 1440.0, seed, start=DEFAULT_START + 8 * 3600.0,
                  prefix=prefix)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hour.jsonl.gz"
        write_recording(path, fleet.header(), fleet.batches())
        messages = list(open_recording(path).messages())
    collector = MqttCollector(target, [f"anbu/v1/{h.household}/+/+" for h in fleet.households])
    try:
        with MqttPublisher(target) as pub:
            stats = play(messages, pub, Pacer(speed), measure=True)
            acked = pub.flush(timeout=60.0)
        received = collector.wait_for(len(messages), timeout=30.0)
        arrived = list(collector.received)
    finally:
        collector.close()
    late_ms = np.asarray(stats.lateness) * 1000.0
    span = messages[-1].t - messages[0].t if messages else 0.0
    return {
        "bench": "replay",
        "mqtt_url": mqtt_url,
        "households": households,
        "recording_minutes": minutes,
        "speed": speed,
        "messages": len(messages),
        "replay_seconds": round(span / speed, 1),
        "acked": acked,
        "received": received,
        "delivered_in_order": arrived == [(m.topic, m.payload) for m in messages],
        "p50_send_lateness_ms": round(float(np.percentile(late_ms, 50)), 3),
        "p99_send_lateness_ms": round(float(np.percentile(late_ms, 99)), 3),
        "max_send_lateness_ms": round(float(late_ms.max()), 3),
    }

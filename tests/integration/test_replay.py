"""Replay to a real MQTT broker at 10x: every message arrives, in order, on time.

Uses the broker at ANBU_TEST_MQTT_URL (default mqtt://127.0.0.1:1883); skipped if none answers.
"""

from __future__ import annotations

import os
import socket

import pytest

from simulators.bench import bench_replay
from simulators.publish import parse_mqtt_url

pytestmark = pytest.mark.integration

URL = os.environ.get("ANBU_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def _broker_up() -> bool:
    t = parse_mqtt_url(URL)
    try:
        with socket.create_connection((t.host, t.port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _broker_up(), reason=f"no MQTT broker at {URL}")
def test_replay_at_10x_lands_in_order_and_on_time() -> None:
    # two minutes of 50 homes at 10x: 12 s of wall time
    result = bench_replay(URL, households=50, minutes=2.0, speed=10.0)
    assert result["messages"] > 100
    assert result["acked"] is True
    assert result["received"] == result["messages"]
    assert result["delivered_in_order"] is True
    assert result["p99_send_lateness_ms"] < 50.0

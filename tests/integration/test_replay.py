"""Replay to a real MQTT broker at 10x: every message arrives, in order, on time.

The broker is the suite's `mqtt_url` (127.0.0.1:1883 when reachable, else a local one). The
replayed households get ids unique to the run, so other traffic on a shared broker is ignored.
"""

from __future__ import annotations

import pytest

from simulators.bench import bench_replay

pytestmark = pytest.mark.integration


def test_replay_at_10x_lands_in_order_and_on_time(mqtt_url: str) -> None:
    # two minutes of 50 homes at 10x: 12 s of wall time
    result = bench_replay(mqtt_url, households=50, minutes=2.0, speed=10.0)
    assert result["messages"] > 100
    assert result["acked"] is True
    assert result["received"] == result["messages"]
    assert result["delivered_in_order"] is True
    assert result["p99_send_lateness_ms"] < 50.0

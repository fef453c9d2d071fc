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


def test_simulator_publishes_over_mqtt_311(amqtt_url: str) -> None:
    """amqtt speaks only MQTT 3.1.1: the simulators' publisher and collector fall back to it."""
    from anbu.mqtt import parse_url
    from simulators.core import Message
    from simulators.publish import MqttCollector, MqttPublisher

    target = parse_url(amqtt_url)
    collector = MqttCollector(target, ("anbu/v1/sim311/+/+",))
    try:
        with MqttPublisher(target) as pub:
            for i in range(50):
                pub.send(Message(float(i), "anbu/v1/sim311/pir-1/motion", b'{"seq": %d}' % i))
        assert collector.wait_for(50, 15) == 50
        assert [p for _, p in collector.received][:2] == [b'{"seq": 0}', b'{"seq": 1}']
    finally:
        collector.close()

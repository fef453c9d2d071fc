"""The MQTT edge: a thin paho-mqtt 2 adapter over the pure generators (QoS 1).

Only this module and the pacer touch the outside world. `MqttPublisher.send` hands a message to
paho (non-blocking; paho's network thread writes it), `flush` waits until the broker has
acknowledged every message. `MqttCollector` subscribes and keeps what arrives, in order (used by
`anbu bench replay` and the integration test).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from anbu.mqtt import BrokerAddress, detect_protocol, make_client, parse_url
from simulators.core import Message

__all__ = ["BrokerAddress", "MqttCollector", "MqttPublisher", "parse_url"]


def _client(target: BrokerAddress, prefix: str) -> Any:
    # MQTT 5 where the broker has it, else 3.1.1 (amqtt): the same rule as the ingester
    return make_client(target, f"{prefix}-{uuid.uuid4().hex[:8]}", detect_protocol(target))


def _connect(client: Any, target: BrokerAddress, timeout: float) -> None:
    ready = threading.Event()
    failure: list[str] = []

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            failure.append(str(reason))
        ready.set()

    client.on_connect = on_connect
    client.connect(target.host, target.port, keepalive=60)
    client.loop_start()
    if not ready.wait(timeout) or failure:
        client.loop_stop()
        raise ConnectionError(
            f"MQTT broker {target.host}:{target.port} refused or did not answer: "
            f"{failure[0] if failure else 'timeout'}")


class MqttPublisher:
    """Publishes messages with QoS 1 over one connection."""

    def __init__(self, target: BrokerAddress, timeout: float = 10.0) -> None:
        self.client = _client(target, "anbu-sim")
        self.client.max_inflight_messages_set(1000)
        self._lock = threading.Lock()
        self.sent = 0
        self.acked = 0

        def on_publish(_c: Any, _u: Any, _mid: int, _reason: Any, _p: Any) -> None:
            with self._lock:
                self.acked += 1

        self.client.on_publish = on_publish
        _connect(self.client, target, timeout)

    def send(self, msg: Message) -> None:
        self.client.publish(msg.topic, msg.payload, qos=1)
        self.sent += 1

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until the broker acknowledged everything sent; False on timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self.acked >= self.sent:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> MqttPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
        self.close()


class MqttCollector:
    """Subscribes (QoS 1) to `topics` and records (topic, payload) of live messages in arrival
    order. On a shared broker, subscribe narrowly (one filter per household): a subscriber
    flooded with other traffic has its queue cut by the broker, ours included."""

    def __init__(self, target: BrokerAddress, topics: Sequence[str] = ("anbu/v1/+/+/+",),
                 timeout: float = 10.0) -> None:
        self.client = _client(target, "anbu-collect")
        self.received: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()

        def on_message(_c: Any, _u: Any, m: Any) -> None:
            if m.retain:  # left on the broker earlier: not part of this run
                return
            with self._lock:
                self.received.append((m.topic, bytes(m.payload)))

        def on_subscribe(*_a: Any) -> None:
            subscribed.set()

        self.client.on_message = on_message
        self.client.on_subscribe = on_subscribe
        _connect(self.client, target, timeout)
        self.client.subscribe([(t, 1) for t in topics])
        if not subscribed.wait(timeout):
            raise ConnectionError("MQTT subscription was not acknowledged")

    def wait_for(self, n: int, timeout: float) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if len(self.received) >= n:
                    break
            time.sleep(0.02)
        with self._lock:
            return len(self.received)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

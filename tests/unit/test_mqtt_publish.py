"""anbu.mqtt.Client's lean PUBLISH handling gives the callback what paho's own code gives."""

from __future__ import annotations

import struct
from typing import Any

import paho.mqtt.client as paho
import pytest

from anbu.mqtt import BrokerAddress, make_client


def publish_packet(topic: bytes, payload: bytes, qos: int, mid: int, props: bytes | None) -> bytes:
    body = struct.pack("!H", len(topic)) + topic
    if qos:
        body += struct.pack("!H", mid)
    if props is not None:  # MQTT 5: property length, then the properties
        body += bytes([len(props)]) + props
    return body + payload


def received(protocol: str, header: int, body: bytes, lean: bool) -> list[tuple[Any, ...]]:
    c = make_client(BrokerAddress("127.0.0.1", 1), "t", protocol, manual_ack=True)  # type: ignore[arg-type]
    got: list[tuple[Any, ...]] = []

    def on_message(_c: object, _u: object, m: paho.MQTTMessage) -> None:
        props = m.properties.json() if m.properties is not None else None
        got.append((m.topic, m.payload, type(m.payload), m.qos, m.retain, m.dup, m.mid, props))

    c.on_message = on_message
    c._in_packet = {"command": header, "packet": bytearray(body)}
    handle = c._handle_publish if lean else lambda: paho.Client._handle_publish(c)
    assert handle() == paho.MQTT_ERR_SUCCESS
    return got


@pytest.mark.parametrize("qos", [0, 1])
@pytest.mark.parametrize("flags", [0, 0x01, 0x08, 0x09])
@pytest.mark.parametrize(
    ("protocol", "props"),
    [("5", None), ("5", b""), ("5", b"\x01\x01"), ("5", b"\x23\x00\x05"), ("3.1.1", None)],
)
def test_lean_publish_matches_paho(
    qos: int, flags: int, protocol: str, props: bytes | None
) -> None:
    if protocol == "5" and props is None:
        props = b""
    body = publish_packet(b"anbu/v1/h/d/motion", b'{"ts": 1, "seq": 2}', qos, 4242, props)
    header = 0x30 | flags | (qos << 1)
    lean = received(protocol, header, body, lean=True)
    assert lean == received(protocol, header, body, lean=False)
    assert len(lean) == 1 and lean[0][0] == "anbu/v1/h/d/motion"


def test_empty_payload_and_utf8_topic() -> None:
    body = publish_packet("anbu/v1/h/주방/motion".encode(), b"", 1, 7, b"")
    assert received("5", 0x32, body, True) == received("5", 0x32, body, False)


def test_filtered_callbacks_still_take_their_messages() -> None:
    c = make_client(BrokerAddress("127.0.0.1", 1), "t", "5", manual_ack=True)
    plain: list[str] = []
    filtered: list[str] = []
    c.on_message = lambda _c, _u, m: plain.append(m.topic)
    c.message_callback_add("anbu/v1/+/+/status", lambda _c, _u, m: filtered.append(m.topic))
    for topic in (b"anbu/v1/h/d/motion", b"anbu/v1/h/gw/status"):
        c._in_packet = {
            "command": 0x32,
            "packet": bytearray(publish_packet(topic, b"{}", 1, 1, b"")),
        }
        c._handle_publish()
    assert plain == ["anbu/v1/h/d/motion"] and filtered == ["anbu/v1/h/gw/status"]


def test_a_raising_callback_is_reported_as_paho_does() -> None:
    c = make_client(BrokerAddress("127.0.0.1", 1), "t", "5", manual_ack=True)

    def boom(*_: object) -> None:
        raise RuntimeError("boom")

    c.on_message = boom
    c._in_packet = {"command": 0x30, "packet": bytearray(publish_packet(b"a/b", b"", 0, 0, b""))}
    with pytest.raises(RuntimeError):
        c._handle_publish()
    c.suppress_exceptions = True
    c._in_packet = {"command": 0x30, "packet": bytearray(publish_packet(b"a/b", b"", 0, 0, b""))}
    c._handle_publish()

"""MQTT plumbing shared by the ingester, the simulators and the alert channels (paho-mqtt 2).

Only connection set-up lives here: URL parsing, a client factory, and detecting whether the
broker speaks MQTT 5 (mosquitto, EMQX, HiveMQ) or only 3.1.1 (amqtt).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

Protocol = Literal["5", "3.1.1"]

#: the properties of every received MQTT 5 message that has none (see Client._handle_publish)
_NO_PROPERTIES = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def url(self) -> str:
        auth = f"{self.username}:***@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{auth}{self.host}:{self.port}"


def parse_url(url: str) -> BrokerAddress:
    u = urlsplit(url)
    if u.scheme not in ("mqtt", "mqtts") or not u.hostname:
        raise ValueError(f"not an MQTT URL: {url!r} (expected mqtt://host:1883)")
    tls = u.scheme == "mqtts"
    return BrokerAddress(
        u.hostname,
        u.port or (8883 if tls else 1883),
        unquote(u.username) if u.username else None,
        unquote(u.password) if u.password else None,
        tls,
    )


class BufferedSocket:
    """A TCP socket that reads 64 KiB at a time and hands paho the bytes it asks for.

    paho reads every packet with 3-4 `recv` calls (the type byte, each length byte, the body),
    which at thousands of messages a second is most of its cost. Its loop already asks a socket
    for `pending()` bytes (the hook it uses for SSL and websockets) and reads them without
    waiting in select, so buffering here is invisible to it.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, n: int) -> bytes:
        if self._pos >= len(self._buf):
            self._buf = self._sock.recv(1 << 16)  # raises BlockingIOError when none
            self._pos = 0
            if not self._buf:
                return b""  # closed by the peer
        out = self._buf[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def pending(self) -> int:
        return len(self._buf) - self._pos

    def __getattr__(self, name: str) -> Any:  # send, fileno, close, setblocking, ...
        return getattr(self._sock, name)


class Client(mqtt.Client):
    """paho's client with buffered reads on plain TCP connections."""

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        if isinstance(sock, socket.socket) and not isinstance(sock, ssl.SSLSocket):
            return BufferedSocket(sock)
        return sock

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Read on while whole packets are already buffered, up to 256 of them.

        paho's loop reads one packet per pass, and each pass costs a `select()` and its
        housekeeping, more than handling a small packet. Outgoing packets (our PUBACKs) and
        keep-alives wait for at most those 256 packets: well under a millisecond.
        """
        rc = super().loop_read(max_packets)
        sock = self._sock
        n = 256
        while (
            rc == MQTTErrorCode.MQTT_ERR_SUCCESS
            and n
            and isinstance(sock, BufferedSocket)
            and sock.pending()
            and sock is self._sock
        ):
            rc = super().loop_read(1)
            n -= 1
        return rc

    def _handle_publish(self) -> MQTTErrorCode:
        """paho's handling of an incoming QoS 0/1 PUBLISH, without its per-message cost.

        For every MQTT 5 message paho builds a `Properties` object (a few dozen attribute
        writes) even when the message has no properties, which is about a third of its cost per
        message. The common case here — QoS 0 or 1, no properties, no paho logging — is decoded
        in place, and every such message shares one empty, read-only `Properties`; anything else
        (QoS 2, properties such as a topic alias, a malformed packet, logging on) goes to
        paho's own code.
        """
        packet = self._in_packet["packet"]
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        v5 = self._protocol == mqtt.MQTTv5
        n = len(packet)
        if qos == 2 or n < 2 or self.on_log is not None or self._logger is not None:
            return super()._handle_publish()
        pos = topic_end = 2 + ((packet[0] << 8) | packet[1])
        mid = 0
        if qos:
            if n < pos + 2:
                return super()._handle_publish()
            mid = (packet[pos] << 8) | packet[pos + 1]
            pos += 2
        if v5:
            if n <= pos or packet[pos] != 0:  # properties present (or malformed)
                return super()._handle_publish()
            pos += 1
        elif topic_end == 2 or n < pos:  # an empty topic is malformed in 3.1.1
            return super()._handle_publish()
        message = mqtt.MQTTMessage(mid, bytes(packet[2:topic_end]))
        message.dup = bool(header & 0x08)
        message.qos = qos
        message.retain = bool(header & 0x01)
        message.properties = _NO_PROPERTIES if v5 else None
        message.payload = bytes(packet[pos:])
        message.timestamp = mqtt.time_func()
        self._handle_on_message(message)
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
        """paho's dispatch, without matching the topic against an empty filter tree.

        paho walks its per-topic callback filters (`message_callback_add`) for every message,
        a recursive generator per topic level, even when there are none; then `on_message`.
        """
        if self._on_message_filtered._root._children:
            super()._handle_on_message(message)
            return
        with self._callback_mutex:
            on_message = self.on_message
        if on_message:
            with self._in_callback_mutex:
                try:
                    on_message(self, self._userdata, message)
                except Exception as err:
                    self._easy_log(mqtt.MQTT_LOG_ERR, "Caught exception in on_message: %s", err)
                    if not self.suppress_exceptions:
                        raise


def make_client(
    addr: BrokerAddress,
    client_id: str,
    protocol: Protocol,
    *,
    manual_ack: bool = False,
    clean: bool = True,
) -> mqtt.Client:
    """A paho client, not yet connected. With clean=False the broker keeps the session."""
    client = Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311,
        clean_session=None if protocol == "5" else clean,
        manual_ack=manual_ack,
    )
    if addr.username:
        client.username_pw_set(addr.username, addr.password)
    if addr.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def detect_protocol(addr: BrokerAddress, timeout: float = 5.0) -> Protocol:
    """Ask the broker for an MQTT 5 session; fall back to 3.1.1 when it refuses or hangs up."""
    done = threading.Event()
    result: list[bool] = []

    def on_connect(c: mqtt.Client, u: object, f: object, rc: object, p: object = None) -> None:
        result.append(not getattr(rc, "is_failure", False))
        done.set()

    def on_disconnect(c: mqtt.Client, u: object, f: object, rc: object, p: object = None) -> None:
        done.set()

    client = make_client(addr, f"anbu-probe-{threading.get_ident()}", "5")
    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    try:
        client.connect(addr.host, addr.port, keepalive=10)
    except OSError as e:
        raise ConnectionError(f"cannot reach the MQTT broker at {addr.url()}: {e}") from e
    client.loop_start()
    try:
        done.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    return "5" if result and result[0] else "3.1.1"


class JsonPublisher:
    """Publishes JSON with QoS 1 and waits for the broker's acknowledgement (alert channels)."""

    def __init__(self, addr: BrokerAddress, client_id: str, timeout_s: float = 10.0) -> None:
        self._timeout = timeout_s
        self._client = make_client(addr, client_id, detect_protocol(addr))
        self._client.connect_async(addr.host, addr.port, keepalive=30)
        self._client.loop_start()

    def publish_json(self, topic: str, payload: dict[str, Any]) -> None:
        info = self._client.publish(topic, json.dumps(payload, ensure_ascii=False), qos=1)
        try:
            info.wait_for_publish(self._timeout)
        except (RuntimeError, ValueError) as e:  # not connected, or the queue refused it
            raise ConnectionError(f"MQTT publish to {topic} failed: {e}") from e
        if not info.is_published():
            raise TimeoutError(f"MQTT publish to {topic} not acknowledged in {self._timeout}s")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

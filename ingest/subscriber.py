"""The MQTT side of the ingester: subscribe, decode in the callback, enqueue. Nothing else.

The paho callback never touches the database. When the queue is full it blocks, which stops
reading from the socket: the broker holds the rest (backpressure, no loss). Acknowledgements
are sent by the writer after commit; an acknowledgement for a message received on an earlier
connection is not sent (the broker redelivers it on the new one, where its id may mean another
message).
"""

from __future__ import annotations

import logging
import struct
import threading
from dataclasses import dataclass, field
from time import time_ns

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from anbu.contract import SUBSCRIPTION
from anbu.domain import DeadLetter
from anbu.mqtt import BrokerAddress, Protocol, make_client
from ingest.backlog import Backlog
from ingest.decode import Limits, Reason
from ingest.rows import Rows, decode_rows_us, from_us
from ingest.writer import Item

log = logging.getLogger(__name__)
_PUBACK = struct.Struct("!BBH")


@dataclass(slots=True)
class Subscriber:
    addr: BrokerAddress
    q: Backlog[Item]
    client_id: str
    protocol: Protocol
    limits: Limits = Limits()
    share_group: str = ""
    session_expiry_s: int = 7 * 86_400
    receive_maximum: int = 20_000
    connected: threading.Event = field(default_factory=threading.Event)
    _generation: int = 0
    _paused: bool = False
    _client: mqtt.Client | None = None

    @property
    def subscription(self) -> str:
        if self.protocol == "5" and self.share_group:
            return f"$share/{self.share_group}/{SUBSCRIPTION}"
        return SUBSCRIPTION

    def start(self) -> None:
        c = make_client(self.addr, self.client_id, self.protocol, manual_ack=True, clean=False)
        c.max_queued_messages_set(0)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        props = None
        if self.protocol == "5":
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = self.session_expiry_s
            props.ReceiveMaximum = self.receive_maximum
            c.connect_async(
                self.addr.host, self.addr.port, keepalive=30, clean_start=False, properties=props
            )
        else:
            c.connect_async(self.addr.host, self.addr.port, keepalive=30)
        self._client = c
        c.loop_start()

    def pause(self) -> None:
        """Stop taking messages (not acknowledged, so the broker redelivers them later)."""
        self._paused = True

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()

    def _on_connect(
        self,
        c: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        rc: ReasonCode,
        props: Properties | None = None,
    ) -> None:
        if rc.is_failure:
            log.error("MQTT connect refused: %s", rc)
            return
        self._generation += 1
        if self.protocol == "5":
            # retain handling 1: retained messages only on a new subscription, not on resubscribe
            c.subscribe(self.subscription, options=SubscribeOptions(qos=1, retainHandling=1))
        else:
            c.subscribe(self.subscription, qos=1)
        log.info("subscribed to %s (session present: %s)", self.subscription, flags.session_present)
        self.connected.set()

    def _on_disconnect(
        self,
        c: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        rc: ReasonCode,
        props: Properties | None = None,
    ) -> None:
        self.connected.clear()
        if rc != 0:
            log.warning("MQTT disconnected (%s); paho reconnects", rc)

    def _on_message(self, c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if self._paused:
            return
        now_us = time_ns() // 1000
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = msg._topic.decode("utf-8", "replace")
            decoded = Rows(
                dead=[
                    DeadLetter(
                        from_us(now_us),
                        topic,
                        bytes(msg.payload),
                        Reason.BAD_TOPIC,
                        "topic is not UTF-8",
                        len(msg.payload),
                    )
                ]
            )
        else:
            decoded = decode_rows_us(
                topic, bytes(msg.payload), now_us, self.limits, retained=bool(msg.retain)
            )
        self.q.put(Item(decoded, (self._generation, msg.mid) if msg.qos > 0 else None))

    def acknowledge(self, tokens: list[tuple[int, int]]) -> None:
        """PUBACK committed messages, all in one write.

        paho's `ack()` costs a wake-up of its network thread and a send per message; at
        thousands a second that is a large share of the ingester's CPU. A PUBACK with reason
        "success" is the same four bytes in MQTT 3.1.1 and 5 (paho's own `_send_puback` sends
        exactly these), so the batch's PUBACKs are queued as one buffer through paho's
        outgoing packet queue. Acks from an earlier connection are dropped.
        """
        client = self._client
        gen = self._generation
        mids = [mid for g, mid in tokens if g == gen]
        if client is None or not mids:
            return
        buf = b"".join(_PUBACK.pack(0x40, 2, mid) for mid in mids)
        client._packet_queue(PUBACK, buf, 0, 0)

"""The publisher half of `anbu bench ingest`, run as its own process.

Usage: python -m ingest.bench_publisher URL PROTOCOL MESSAGES BATCH HOUSEHOLDS
Prints `START <epoch>` just before the first publish and `DONE <epoch> <acked>` when the broker
has acknowledged every message.

Why not paho here: paho spends 50-100 µs of CPU per QoS 1 publish (one syscall per packet,
property objects per PUBACK), so on a 2-core machine the load generator would take the CPU
the ingester is being measured on. A load generator only needs to write pre-encoded PUBLISH
packets in large writes and count PUBACKs, which is what this does (MQTT 3.1.1 and 5, QoS 1,
a window of unacknowledged messages). The ingester under test uses paho.
"""

from __future__ import annotations

import socket
import struct
import sys
import time
from collections.abc import Iterator

import orjson

from anbu.mqtt import parse_url

DEVICES = [
    ("pir-living", "motion"),
    ("pir-kitchen", "motion"),
    ("pir-bath", "motion"),
    ("door-front", "door"),
    ("plug-main", "power"),
]
WINDOW = 2_000


def bench_household(i: int) -> str:
    return f"bench-{i:05d}"


def reading(kind: str, seq: int, ts: float) -> dict[str, object]:
    if kind == "motion":
        return {"ts": ts, "seq": seq, "motion": True}
    if kind == "door":
        return {"ts": ts, "seq": seq, "open": seq % 2 == 0, "exterior": True}
    return {"ts": ts, "seq": seq, "w": 40.0 + seq % 100}


def messages(n: int, batch: int, households: int) -> Iterator[tuple[str, bytes]]:
    """(topic, payload) pairs; each timestamp is taken when the message is made."""
    seqs: dict[tuple[int, int], int] = {}

    def next_seq(h: int, d: int) -> int:
        s = seqs.get((h, d), 0)
        seqs[(h, d)] = s + 1
        return s

    for i in range(n):
        h = i % households
        hid = bench_household(h)
        now = time.time()
        if batch == 1:
            d = (i // households) % len(DEVICES)
            dev, kind = DEVICES[d]
            yield f"anbu/v1/{hid}/{dev}/{kind}", orjson.dumps(reading(kind, next_seq(h, d), now))
        else:
            items = []
            for j in range(batch):
                d = j % len(DEVICES)
                dev, kind = DEVICES[d]
                items.append({"device": dev, "kind": kind, **reading(kind, next_seq(h, d), now)})
            yield f"anbu/v1/{hid}/gw-1/batch", orjson.dumps(items)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(s: bytes) -> bytes:
    return struct.pack("!H", len(s)) + s


def connect_packet(client_id: str, v5: bool) -> bytes:
    var = _str(b"MQTT") + bytes([5 if v5 else 4, 0x02]) + struct.pack("!H", 60)
    if v5:
        var += b"\x00"  # no properties
    body = var + _str(client_id.encode())
    return b"\x10" + _varint(len(body)) + body


def publish_packet(topic: str, payload: bytes, pid: int, v5: bool) -> bytes:
    body = _str(topic.encode()) + struct.pack("!H", pid) + (b"\x00" if v5 else b"") + payload
    return b"\x32" + _varint(len(body)) + body


class _Reader:
    """Reads whole MQTT packets from the socket; returns (type, body) pairs."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, bytearray()

    def packets(self) -> list[tuple[int, bytes]]:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("broker closed the connection")
        self.buf += chunk
        out, i = [], 0
        while True:
            if len(self.buf) - i < 2:
                break
            mult, length, j = 1, 0, i + 1
            while j < len(self.buf):
                b = self.buf[j]
                length += (b & 0x7F) * mult
                mult *= 128
                j += 1
                if not b & 0x80:
                    break
            else:
                break
            if len(self.buf) - j < length:
                break
            out.append((self.buf[i] >> 4, bytes(self.buf[j : j + length])))
            i = j + length
        del self.buf[:i]
        return out


def main(argv: list[str]) -> None:
    url, protocol, n_s, batch_s, hh_s = argv
    n, batch, households = int(n_s), int(batch_s), int(hh_s)
    v5 = protocol == "5"
    addr = parse_url(url)
    sock = socket.create_connection((addr.host, addr.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_packet(f"anbu-bench-pub-{time.time_ns()}", v5))
    reader = _Reader(sock)
    while not any(t == 2 for t, _ in reader.packets()):  # CONNACK
        pass
    print(f"START {time.time()}", flush=True)
    gen = messages(n, batch, households)
    sent = acked = 0
    while acked < n:
        room = min(WINDOW - (sent - acked), n - sent)
        if room > 0:
            out = bytearray()
            for _ in range(room):
                topic, payload = next(gen)
                out += publish_packet(topic, payload, sent % 65_535 + 1, v5)
                sent += 1
            sock.sendall(out)
        acked += sum(1 for t, _ in reader.packets() if t == 4)  # PUBACK
    print(f"DONE {time.time()} {acked}", flush=True)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()


if __name__ == "__main__":
    main(sys.argv[1:])

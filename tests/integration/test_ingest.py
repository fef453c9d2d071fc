"""The ingester on a real broker and a real PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import orjson
import pytest

from anbu.mqtt import parse_url
from ingest.service import IngestConfig, Ingester
from tests.helpers import count, dead_letter_summary, publish, seed_households, wait_for

pytestmark = pytest.mark.integration

# A prefix of this run's own: a shared broker may carry other traffic under anbu/v1/.
RUN = f"t{uuid.uuid4().hex[:6]}"
HOUSEHOLDS = [f"{RUN}-{i:03d}" for i in range(50)]
OURS = f"topic LIKE 'anbu/v1/{RUN}-%'"
DEVICES = [
    ("pir-living", "motion"),
    ("pir-bath", "motion"),
    ("door-front", "door"),
    ("plug-main", "power"),
    ("bed", "presence"),
]


def readings(n: int, t0: float | None = None) -> list[tuple[str, bytes]]:
    """n valid single-reading messages across 50 households, all distinct."""
    t0 = t0 or time.time() - 60
    out = []
    for i in range(n):
        h = HOUSEHOLDS[i % len(HOUSEHOLDS)]
        dev, kind = DEVICES[(i // len(HOUSEHOLDS)) % len(DEVICES)]
        body: dict[str, object] = {"ts": t0 + i * 0.001, "seq": i}
        body |= {
            "motion": {"motion": True},
            "door": {"open": True, "exterior": True},
            "power": {"w": 50.0 + i % 7},
            "presence": {"occupied": i % 2 == 0},
        }[kind]
        out.append((f"anbu/v1/{h}/{dev}/{kind}", orjson.dumps(body)))
    return out


@contextlib.contextmanager
def ingester(db: str, mqtt: str, **kw: object) -> Iterator[Ingester]:
    tag = uuid.uuid4().hex[:8]
    cfg = IngestConfig(
        db,
        parse_url(mqtt),
        client_id=f"anbu-test-{tag}",
        share_group=f"t{tag}",
        session_expiry_s=60,
        batch_ms=20,
        **kw,
    )  # type: ignore[arg-type]
    ing = Ingester(cfg)
    ing.start()
    try:
        yield ing
    finally:
        ing.stop()


def test_ten_thousand_readings_with_five_percent_published_twice(
    database_url: str, mqtt_url: str
) -> None:
    seed_households(database_url, HOUSEHOLDS)
    msgs = readings(10_000)
    rng = random.Random(5)
    dups = rng.sample(msgs, 500)
    stream = msgs + dups
    rng.shuffle(stream)  # duplicates arrive anywhere, also out of order
    with ingester(database_url, mqtt_url) as ing:
        publish(mqtt_url, stream)
        assert wait_for(lambda: ing.stats.messages >= len(stream), 120)
    assert count(database_url, "SELECT count(*) FROM readings") == 10_000
    assert (
        count(database_url, "SELECT count(DISTINCT (household_id, device_id, seq)) FROM readings")
        == 10_000
    )
    assert count(database_url, f"SELECT count(*) FROM dead_letters WHERE {OURS}") == 0, (
        dead_letter_summary(database_url)
    )
    # unknown devices of known households were registered as provisional
    assert count(database_url, "SELECT count(*) FROM devices WHERE provisional") == 250


MALFORMED: list[tuple[str, bytes, str]] = [
    (f"anbu/v1/{RUN}-000/pir/motion", b"{not json", "not_json"),
    (f"anbu/v1/{RUN}-000/pir/motion", b"\xc3\x28 bad utf8", "bad_utf8"),
    (f"anbu/v1/{RUN}-000/pir/motion", b'{"ts": 1795379361, "seq": "x", "motion": true}', "invalid"),
    (f"anbu/v1/{RUN}-000/pir/motion", b'{"ts": 1795379361, "motion": true}', "invalid"),
    (f"anbu/v1/{RUN}-000/pir/teleport", b'{"ts": 1795379361, "seq": 1}', "unknown_kind"),
    (f"anbu/v1/{RUN}-000/pir/motion", b"{" + b" " * 70_000 + b"}", "oversized"),
    (
        f"anbu/v1/{RUN}-000/pir/motion",
        b'{"ts": 1795379361, "seq": 1, "motion": true, "device": "x"}',
        "device_mismatch",
    ),
    (f"anbu/v1/{RUN}-000/pir/motion", b'{"ts": "noon", "seq": 1, "motion": true}', "bad_timestamp"),
    (
        f"anbu/v1/{RUN}-nobody/pir/motion",
        b'{"ts": 1795379361, "seq": 1, "motion": true}',
        "unknown_household",
    ),
    (f"anbu/v1/{RUN}-000/bp/health", b'{"ts": 1795379361, "seq": 1, "spo2_pct": 180}', "invalid"),
]


def test_a_thousand_malformed_payloads_land_in_dead_letters_and_valid_ones_around_them_are_stored(
    database_url: str, mqtt_url: str
) -> None:
    seed_households(database_url, HOUSEHOLDS)
    good = readings(2_000)
    bad = [MALFORMED[i % len(MALFORMED)] for i in range(1_000)]
    bad_msgs = [
        (t, p[:-1] + b" " * (i % 3) + p[-1:]) if p.endswith(b"}") else (t, p)
        for i, (t, p, _) in enumerate(bad)
    ]
    stream: list[tuple[str, bytes]] = []
    for i, g in enumerate(good):  # interleave: two good, one bad
        stream.append(g)
        if i % 2 and bad_msgs:
            stream.append(bad_msgs.pop())
    stream += bad_msgs
    with ingester(database_url, mqtt_url) as ing:
        publish(mqtt_url, stream)
        assert wait_for(lambda: ing.stats.messages >= len(stream), 120)
    assert count(database_url, "SELECT count(*) FROM readings") == 2_000
    assert count(database_url, f"SELECT count(*) FROM dead_letters WHERE {OURS}") == 1_000
    for _, _, reason in MALFORMED:
        assert (
            count(
                database_url,
                f"SELECT count(*) FROM dead_letters WHERE reason = '{reason}' AND {OURS}",
            )
            >= 100
        ), reason
    assert (
        count(database_url, f"SELECT count(*) FROM dead_letters WHERE detail = '' AND {OURS}") == 0
    )
    assert (
        count(
            database_url,
            f"SELECT count(*) FROM dead_letters WHERE octet_length(payload) = 0 AND {OURS}",
        )
        == 0
    )


def _ingest_process(db: str, mqtt: str, client_id: str, group: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ANBU_DATABASE_URL": db,
        "ANBU_MQTT_URL": mqtt,
        "ANBU_MQTT_CLIENT_ID": client_id,
        "ANBU_MQTT_SHARE_GROUP": group,
        "ANBU_MQTT_SESSION_EXPIRY_S": "300",
        "ANBU_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "anbu", "ingest"], env=env)


@pytest.mark.slow
def test_sigkill_mid_stream_loses_nothing(database_url: str, durable_mqtt_url: str) -> None:
    seed_households(database_url, HOUSEHOLDS)
    tag = uuid.uuid4().hex[:8]
    cid, group = f"anbu-kill-{tag}", f"k{tag}"
    proc = _ingest_process(database_url, durable_mqtt_url, cid, group)
    rows = lambda: count(database_url, "SELECT count(*) FROM readings")  # noqa: E731
    msgs = readings(10_000)
    try:
        # the worker must have subscribed before we publish (its session then holds the rest)
        for seq in range(120):
            publish(
                durable_mqtt_url,
                [
                    (
                        f"anbu/v1/{RUN}-000/warmup/motion",
                        orjson.dumps({"ts": time.time(), "seq": seq, "motion": True}),
                    )
                ],
            )
            if wait_for(lambda: rows() >= 1, 0.5):
                break
        assert rows() >= 1, "ingester did not start"
        time.sleep(1)
        warmups = rows()
        pub = threading.Thread(target=publish, args=(durable_mqtt_url, msgs))
        pub.start()
        assert wait_for(lambda: rows() >= 2_000, 60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed_at = rows()
        pub.join(120)
        proc = _ingest_process(database_url, durable_mqtt_url, cid, group)
        want = 10_000 + warmups
        assert wait_for(lambda: rows() >= want, 120), f"{rows()} of {want} rows"
        time.sleep(1)
        assert rows() == want
        assert killed_at < want, "the kill came too late to test anything"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def test_mqtt_311_broker_works_too(database_url: str, amqtt_url: str) -> None:
    seed_households(database_url, HOUSEHOLDS)
    with ingester(database_url, amqtt_url) as ing:
        assert ing.protocol == "3.1.1"
        assert ing.subscriber.subscription == "anbu/v1/+/+/+"  # no shared subscriptions there
        publish(amqtt_url, readings(500) + [MALFORMED[0][:2]])
        assert wait_for(lambda: ing.stats.messages >= 501, 60)
    assert count(database_url, "SELECT count(*) FROM readings") == 500
    assert count(database_url, f"SELECT count(*) FROM dead_letters WHERE {OURS}") == 1


def test_gateway_last_will_marks_gateway_offline(database_url: str, mqtt_url: str) -> None:
    seed_households(database_url, HOUSEHOLDS)
    topic = f"anbu/v1/{RUN}-001/gw-1/status"
    with ingester(database_url, mqtt_url) as ing:
        publish(
            mqtt_url,
            [
                (
                    topic,
                    orjson.dumps(
                        {
                            "ts": time.time(),
                            "seq": 1,
                            "online": True,
                            "battery_pct": 90,
                            "role": "gateway",
                        }
                    ),
                ),
                (topic, orjson.dumps({"online": False, "role": "gateway"})),
            ],
        )
        assert wait_for(lambda: ing.stats.messages >= 2, 30)
    assert (
        count(
            database_url,
            "SELECT count(*) FROM device_status WHERE NOT online"
            " AND battery_pct = 90 AND role = 'gateway'",
        )
        == 1
    )


def test_committed_messages_are_acknowledged_so_the_session_holds_nothing(
    database_url: str, durable_mqtt_url: str
) -> None:
    """If acks did not reach the broker, duplicates would hide it: the broker would redeliver
    every message to the session and the unique index would drop them. So look at the session."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from anbu.mqtt import make_client

    seed_households(database_url, HOUSEHOLDS)
    tag = uuid.uuid4().hex[:8]
    cid = f"anbu-acks-{tag}"
    cfg = IngestConfig(
        database_url,
        parse_url(durable_mqtt_url),
        client_id=cid,
        share_group="",
        session_expiry_s=300,
        batch_ms=20,
    )
    ing = Ingester(cfg)
    ing.start()
    publish(durable_mqtt_url, readings(2_000))
    assert wait_for(lambda: ing.stats.messages >= 2_000, 60)
    time.sleep(0.5)  # let the last acks leave
    ing.stop()
    assert count(database_url, "SELECT count(*) FROM readings") == 2_000

    redelivered = []
    probe = make_client(
        parse_url(durable_mqtt_url), cid, ing.protocol, manual_ack=True, clean=False
    )
    probe.on_message = lambda c, u, m: redelivered.append(m.mid)
    present: list[bool] = []
    probe.on_connect = lambda c, u, f, rc, p=None: present.append(f.session_present)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    addr = parse_url(durable_mqtt_url)
    probe.connect(addr.host, addr.port, clean_start=False, properties=props)
    probe.loop_start()
    time.sleep(2)
    probe.disconnect()
    probe.loop_stop()
    assert present == [True], "the persistent session should still be there"
    assert redelivered == [], f"{len(redelivered)} committed messages were never acknowledged"
    assert isinstance(probe, mqtt.Client)

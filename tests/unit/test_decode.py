"""The device contract, enforced: every kind decodes, every malformation has its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anbu.domain import Kind, ReadingFlag
from ingest.decode import Limits, Reason, decode

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TS = NOW.timestamp()

VALID = {
    "motion": {"motion": True},
    "door": {"open": True, "exterior": True},
    "contact": {"open": False, "target": "fridge"},
    "power": {"w": 64.5, "wh": 1200.0},
    "appliance": {"on": True, "appliance": "kettle"},
    "presence": {"occupied": True, "place": "bed"},
    "water": {"event": "flush"},
    "health": {"systolic_mmhg": 131, "diastolic_mmhg": 84, "pulse_bpm": 70},
    "button": {"action": "sos"},
    "env": {"temp_c": 31.5, "humidity_pct": 60},
    "status": {"online": True, "battery_pct": 88, "rssi_dbm": -70, "role": "gateway"},
}
PRIMARY = {
    "motion": 1.0,
    "door": 1.0,
    "contact": 0.0,
    "power": 64.5,
    "appliance": 1.0,
    "presence": 1.0,
    "water": 1.0,
    "health": None,
    "button": 1.0,
    "env": 31.5,
    "status": 88.0,
}


def msg(**fields: object) -> bytes:
    return orjson.dumps({"ts": TS, "seq": 7, **fields})


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_kind_decodes(kind: str) -> None:
    out = decode(f"anbu/v1/hh-1/dev-1/{kind}", msg(**VALID[kind]), NOW)
    assert out.dead == []
    [r] = out.readings
    assert (r.household_id, r.device_id, r.kind, r.seq) == ("hh-1", "dev-1", Kind(kind), 7)
    assert r.time == NOW and r.flags == 0
    assert r.value == PRIMARY[kind]
    assert set(VALID[kind]) <= set(r.data)
    assert "ts" not in r.data and "seq" not in r.data


def test_rfc3339_timestamp_with_offset() -> None:
    out = decode(
        "anbu/v1/h/d/motion",
        msg(motion=True).replace(orjson.dumps(TS), b'"2026-11-22T21:00:00+09:00"'),
        NOW,
    )
    assert out.readings[0].time == NOW


def test_array_on_a_device_topic_is_several_readings() -> None:
    payload = orjson.dumps([{"ts": TS - i, "seq": i, "motion": True} for i in range(3)])
    out = decode("anbu/v1/h/pir/motion", payload, NOW)
    assert [r.seq for r in out.readings] == [0, 1, 2] and out.dead == []


def test_gateway_batch_keeps_good_items_and_dead_letters_bad_ones() -> None:
    items = [
        {"device": "pir-1", "kind": "motion", "ts": TS, "seq": 1, "motion": True},
        {"device": "plug", "kind": "power", "ts": TS, "seq": 2},  # no w/wh
        {"device": "bp", "kind": "health", "ts": TS, "seq": 3, "spo2_pct": 140},  # implausible
        {"device": "x", "kind": "teleport", "ts": TS, "seq": 4},
        {"device": "door", "kind": "door", "ts": TS, "seq": 5, "open": True, "exterior": False},
        "not an object",
        {"kind": "motion", "ts": TS, "seq": 6, "motion": True},  # no device
    ]
    out = decode("anbu/v1/h/gw-1/batch", orjson.dumps(items), NOW)
    assert [(r.device_id, r.kind) for r in out.readings] == [
        ("pir-1", Kind.MOTION),
        ("door", Kind.DOOR),
    ]
    assert [d.reason for d in out.dead] == [
        Reason.INVALID,
        Reason.INVALID,
        Reason.UNKNOWN_KIND,
        Reason.NOT_OBJECT,
        Reason.INVALID,
    ]
    assert "spo2_pct" in out.dead[1].detail
    assert orjson.loads(out.dead[0].payload)["device"] == "plug"  # the item itself is kept


BAD = [
    ("anbu/v1/h/d", msg(motion=True), Reason.BAD_TOPIC),
    ("anbu/v2/h/d/motion", msg(motion=True), Reason.BAD_TOPIC),
    ("anbu/v1/h h/d/motion", msg(motion=True), Reason.BAD_TOPIC),
    ("anbu/v1/h/d/teleport", msg(motion=True), Reason.UNKNOWN_KIND),
    ("anbu/v1/h/d/motion", b"\xff\xfe{}", Reason.BAD_UTF8),
    ("anbu/v1/h/d/motion", b"{motion: true", Reason.NOT_JSON),
    ("anbu/v1/h/d/motion", b"", Reason.NOT_JSON),
    ("anbu/v1/h/d/motion", b"[]", Reason.EMPTY_BATCH),
    ("anbu/v1/h/d/motion", b"42", Reason.NOT_OBJECT),
    ("anbu/v1/h/d/motion", msg(motion="yes"), Reason.INVALID),
    ("anbu/v1/h/d/motion", msg(motion=1), Reason.INVALID),
    ("anbu/v1/h/d/motion", orjson.dumps({"ts": TS, "motion": True}), Reason.INVALID),
    ("anbu/v1/h/d/motion", orjson.dumps({"seq": 1, "motion": True}), Reason.INVALID),
    ("anbu/v1/h/d/motion", orjson.dumps({"ts": TS, "seq": "1", "motion": True}), Reason.INVALID),
    ("anbu/v1/h/d/motion", orjson.dumps({"ts": TS, "seq": -1, "motion": True}), Reason.INVALID),
    ("anbu/v1/h/d/door", msg(open=True), Reason.INVALID),
    ("anbu/v1/h/d/health", msg(), Reason.INVALID),
    ("anbu/v1/h/d/health", msg(pulse_bpm=900), Reason.INVALID),
    ("anbu/v1/h/d/env", msg(temp_c=500), Reason.INVALID),
    ("anbu/v1/h/d/button", msg(action="dance"), Reason.INVALID),
    ("anbu/v1/h/d/motion", msg(motion=True, firmware="a\u0000b"), Reason.INVALID),
    ("anbu/v1/h/d/motion", msg(motion=True, device="other"), Reason.DEVICE_MISMATCH),
    ("anbu/v1/h/d/motion", msg(motion=True, kind="door"), Reason.DEVICE_MISMATCH),
    (
        "anbu/v1/h/d/motion",
        orjson.dumps({"ts": "yesterday", "seq": 1, "motion": True}),
        Reason.BAD_TIMESTAMP,
    ),
    (
        "anbu/v1/h/d/motion",
        orjson.dumps({"ts": "2026-11-22T12:00:00", "seq": 1, "motion": True}),
        Reason.BAD_TIMESTAMP,
    ),
    (
        "anbu/v1/h/d/motion",
        orjson.dumps({"ts": TS * 1000, "seq": 1, "motion": True}),
        Reason.BAD_TIMESTAMP,
    ),
    ("anbu/v1/h/d/motion", b"x" * 70_000, Reason.OVERSIZED),
    ("anbu/v1/h/gw/batch", msg(motion=True), Reason.NOT_OBJECT),
    (
        "anbu/v1/h/d/motion",
        orjson.dumps([{"ts": TS, "seq": i, "motion": True} for i in range(501)]),
        Reason.BATCH_TOO_LARGE,
    ),
]


@pytest.mark.parametrize(("topic", "payload", "reason"), BAD)
def test_malformed_goes_to_dead_letters_with_reason(
    topic: str, payload: bytes, reason: str
) -> None:
    out = decode(topic, payload, NOW)
    assert out.readings == []
    [d] = out.dead
    assert d.reason == reason and d.detail
    assert d.topic == topic and d.size == len(payload)
    assert d.payload == payload[: Limits().max_payload_bytes]
    assert d.received_at == NOW


def test_clock_skew_uses_receive_time_and_keeps_device_time() -> None:
    future = decode(
        "anbu/v1/h/d/motion", orjson.dumps({"ts": TS + 3600, "seq": 1, "motion": True}), NOW
    ).readings[0]
    past = decode(
        "anbu/v1/h/d/motion", orjson.dumps({"ts": TS - 30 * 86400, "seq": 1, "motion": True}), NOW
    ).readings[0]
    for r in (future, past):
        assert r.time == NOW and r.flags & ReadingFlag.CLOCK_CORRECTED
        assert "device_ts" in r.data


def test_buffered_reading_keeps_its_time_and_is_flagged_late() -> None:
    r = decode(
        "anbu/v1/h/d/motion", orjson.dumps({"ts": TS - 3 * 3600, "seq": 1, "motion": True}), NOW
    ).readings[0]
    assert r.time == NOW - timedelta(hours=3)
    assert r.flags == ReadingFlag.LATE


def test_last_will_without_timestamp_uses_receive_time_and_retained_copy_is_skipped() -> None:
    lwt = orjson.dumps({"online": False, "role": "gateway"})
    fresh = decode("anbu/v1/h/gw-1/status", lwt, NOW)
    assert fresh.readings[0].time == NOW and fresh.readings[0].flags & ReadingFlag.UNDATED
    assert fresh.readings[0].data["online"] is False
    replayed = decode("anbu/v1/h/gw-1/status", lwt, NOW, retained=True)
    assert replayed.readings == [] and replayed.dead == []


def test_commands_are_not_ingested() -> None:
    out = decode("anbu/v1/h/d/command", b'{"ask": "checkin"}', NOW)
    assert out.readings == [] and out.dead == []


@settings(max_examples=300, deadline=None)
@given(
    topic=st.one_of(
        st.text(max_size=60), st.sampled_from([f"anbu/v1/h/d/{k}" for k in [*VALID, "batch"]])
    ),
    payload=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none()
            | st.booleans()
            | st.floats(allow_nan=False)
            | st.integers(-(2**63), 2**63 - 1)
            | st.text(),
            lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(), kids, max_size=4),
            max_leaves=12,
        ).map(orjson.dumps),
    ),
)
def test_decode_never_raises_and_never_silently_drops(topic: str, payload: bytes) -> None:
    out = decode(topic, payload, NOW)
    silent_ok = topic.endswith("/command")
    assert out.readings or out.dead or silent_ok


def test_an_id_with_a_trailing_newline_is_not_an_id() -> None:
    """`$` in a Python regex also matches before a final newline; ids must not end in one."""
    from ingest.rows import decode_rows

    item = {"device": "pir\n", "kind": "motion", "ts": TS, "seq": 1, "motion": True}
    for out in (
        decode("anbu/v1/h/gw-1/batch", orjson.dumps([item]), NOW),
        decode_rows("anbu/v1/h/gw-1/batch", orjson.dumps([item]), NOW),
    ):
        assert not getattr(out, "readings", None) and not getattr(out, "rows", None)
        assert [d.reason for d in out.dead] == [Reason.INVALID]
    topic = decode(
        "anbu/v1/h/pir-1/motion\n", orjson.dumps({"ts": TS, "seq": 1, "motion": True}), NOW
    )
    assert [d.reason for d in topic.dead] == [Reason.BAD_TOPIC]

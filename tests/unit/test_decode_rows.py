"""The ingester's fast decoder (`ingest.rows`) against the reference decoder (`ingest.decode`).

The fast path may only ever accept what the reference accepts, and then make the very row the
reference makes; everything else must reach the dead letters through the reference, with the
same reason and detail. So: same readings (time to the microsecond, value and its type, data,
flags) and same dead letters, on every kind of message, valid or not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from anbu.domain import Kind
from ingest.decode import Limits, decode
from ingest.rows import decode_rows, decode_rows_us, from_us, reading_of, row_of, to_us
from tests.unit.test_decode import BAD, NOW, TS, VALID, msg

KINDS = [k.value for k in Kind]
FIELDS = sorted(
    {
        "motion", "open", "exterior", "target", "w", "wh", "appliance", "on", "occupied",
        "place", "event", "litres", "action", "temp_c", "humidity_pct", "lux", "online",
        "battery_pct", "rssi_dbm", "firmware", "uptime_s", "role", "systolic_mmhg",
        "diastolic_mmhg", "pulse_bpm", "spo2_pct", "glucose_mg_dl", "weight_kg", "body_temp_c",
    }
)  # fmt: skip
# values on and around every limit in ingest/payloads.py and anbu/contract.py
EDGES: list[Any] = [
    0, 0.0, -0.0, -1, -1e-9, 1, 1.0, 10, 19.99, 20, 25, 44.9, 45, 45.1, 50, 64.5, 80, 80.5,
    100, 100.0001, 101, 250, 300, 1000, 10_000, 10_000.5, 100_000, 100_000.01, 200_000,
    200_001, -50, -50.5, -150, -151, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, -(2**63), 1e300,
]  # fmt: skip
WORDS = ["flush", "tap", "shower", "bath", "sos", "ok", "cancel", "gateway", "device", "x" * 64]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(EDGES),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(WORDS),
    st.text(max_size=70),
    st.lists(st.integers(0, 3), max_size=2),
)
RECEIVED = datetime(2026, 11, 22, 12, 0, 0, 123457, tzinfo=UTC)
R = RECEIVED.timestamp()
TIMESTAMPS = st.one_of(
    st.floats(R - 9 * 86_400, R + 900, allow_nan=False),
    st.integers(int(R) - 9 * 86_400, int(R) + 900),
    # exactly on the late, future and past limits, and a microsecond either side
    st.sampled_from([-120, -300, 300, -7 * 86_400, 0]).flatmap(
        lambda d: st.sampled_from([R + d, R + d - 1e-6, R + d + 1e-6, round(R) + d])
    ),
    st.sampled_from([0, 0.0, -1, 1e11, 1e11 + 1, 1e12, 0.5e-6, 1.5e-6, True, None, "1", []]),
    st.sampled_from(["2026-11-22T21:00:00+09:00", "2026-11-22T12:00:00", "noon", ""]),
)
SEQS = st.one_of(
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.sampled_from([-1, 0, 2**63 - 1, 2**63, 1.0, True, None, "7"]),
)
IDS = st.sampled_from(["pir-1", "gw-1", "d", "a" * 64, "a" * 65, "-x", "pir\n", "bad id", ""])


@st.composite
def items(draw: st.DrawFn, device: str | None, kind: str | None) -> Any:
    """A reading that is often valid and often wrong in one or two ways."""
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from([1, "x", None, [], [1], True]))
    it: dict[str, Any] = {}
    k = kind if kind is not None else draw(st.sampled_from([*KINDS, "teleport", "batch"]))
    if kind is None or draw(st.integers(0, 4)) == 0:  # a batch item names itself
        it["device"] = draw(st.one_of(IDS, st.just(device or "pir-1"), VALUES))
        it["kind"] = draw(st.one_of(st.just(k), st.sampled_from(KINDS), VALUES))
    if draw(st.integers(0, 19)):
        it["ts"] = draw(TIMESTAMPS)
    if draw(st.integers(0, 19)):
        it["seq"] = draw(SEQS)
    noisy = draw(st.booleans())  # else: wrong in at most a field or two
    valid = VALID.get(k, {})
    for name, v in valid.items():  # the kind's own fields
        if not noisy or draw(st.integers(0, 3)):
            it[name] = draw(VALUES) if noisy and draw(st.booleans()) else v
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3 if noisy else 1)):
        it[name] = draw(VALUES)
    for name in draw(st.lists(st.text(max_size=8), max_size=2)):  # firmware's own extras
        it[name] = draw(VALUES)
    return it


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from([*KINDS, "batch", "teleport"]))
    device = "gw-1" if kind == "batch" else draw(st.sampled_from(["pir-1", "d"]))
    topic = f"anbu/v1/hh-1/{device}/{kind}"
    fixed = None if kind == "batch" else kind
    if kind != "batch" and draw(st.booleans()):
        return topic, orjson.dumps(draw(items(device, fixed)))
    n = draw(st.integers(0, 6))
    return topic, orjson.dumps([draw(items(device, fixed)) for _ in range(n)])


TINY = {"device": "p", "kind": "motion", "ts": R, "seq": 1, "motion": True}


def same(topic: str, payload: bytes, received: datetime, retained: bool = False) -> None:
    limits = Limits()
    ref = decode(topic, payload, received, limits, retained)
    fast = decode_rows(topic, payload, received, limits, retained)
    # the subscriber's entry (receive time in microseconds) makes the very same rows
    assert decode_rows_us(topic, payload, to_us(received), limits, retained) == fast
    assert fast.dead == ref.dead
    got = [reading_of(r) for r in fast.rows]
    assert got == ref.readings
    for g, r in zip(got, ref.readings, strict=True):  # equal is not enough: same types too
        assert type(g.value) is type(r.value)
        assert g.time.utcoffset() == timedelta(0)
        assert list(g.data) == list(r.data)  # same key order: the same JSON is stored


@settings(max_examples=3000, deadline=None)
@given(m=messages(), retained=st.booleans())
@example(m=("anbu/v1/h/gw/batch", orjson.dumps([{**TINY, "ts": 0.5e-6}])), retained=False)
@example(m=("anbu/v1/h/gw/batch", orjson.dumps([{**TINY, "device": "pir\n"}])), retained=False)
def test_fast_decoder_matches_the_reference(m: tuple[str, bytes], retained: bool) -> None:
    same(*m, RECEIVED, retained)


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=200), topic=st.sampled_from(["anbu/v1/h/d/motion", "x"]))
def test_fast_decoder_matches_the_reference_on_any_bytes(topic: str, payload: bytes) -> None:
    same(topic, payload, RECEIVED)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_kind_takes_the_same_way(kind: str) -> None:
    same(f"anbu/v1/hh-1/dev-1/{kind}", msg(**VALID[kind]), NOW)


@pytest.mark.parametrize(("topic", "payload", "reason"), BAD)
def test_every_malformation_gets_the_same_dead_letter(
    topic: str, payload: bytes, reason: str
) -> None:
    same(topic, payload, NOW)
    assert decode_rows(topic, payload, NOW).dead[0].reason == reason


def test_skew_late_and_last_will_rules_are_the_reference_ones() -> None:
    for ts in (TS + 3600, TS - 30 * 86_400, TS - 3 * 3600, TS - 121, TS + 299):
        same("anbu/v1/h/d/motion", orjson.dumps({"ts": ts, "seq": 1, "motion": True}), NOW)
    lwt = orjson.dumps({"online": False, "role": "gateway"})
    same("anbu/v1/h/gw-1/status", lwt, NOW)
    same("anbu/v1/h/gw-1/status", lwt, NOW, retained=True)
    assert decode_rows("anbu/v1/h/gw-1/status", lwt, NOW, retained=True).rows == []


@settings(max_examples=2000)
@given(t=st.datetimes(timezones=st.just(UTC)))
def test_microsecond_times_are_exact(t: datetime) -> None:
    assert from_us(to_us(t)) == t


def test_rows_and_readings_convert_both_ways() -> None:
    [r] = decode("anbu/v1/h/d/power", msg(w=64.5), NOW).readings
    assert reading_of(row_of(r)) == r

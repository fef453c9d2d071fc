"""Recording and label files, rebasing, pacing on a fake clock, URLs and speeds."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from anbu.mqtt import parse_url
from simulators.clock import Pacer, parse_speed
from simulators.core import Cause, Label, Message
from simulators.fleet import Fleet
from simulators.recording import (
    last_time,
    open_recording,
    read_labels,
    write_labels,
    write_recording,
)
from simulators.replay import play, rebase, shift_payload


@pytest.mark.parametrize("name", ["r.jsonl", "r.jsonl.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    fleet = Fleet(3, 1.0, 5, scenario_mix="faults")
    msgs = list(fleet.messages())
    path = tmp_path / name
    assert write_recording(path, fleet.header(), [msgs]) == len(msgs)
    rec = open_recording(path)
    assert rec.header["anbu_recording"] == 1 and rec.header["seed"] == 5
    assert rec.header["source"] == "simulate"
    dev = rec.header["households"][0]["devices"][0]
    assert {"id", "kind", "room", "exterior"} <= set(dev)
    assert list(rec.messages()) == msgs
    assert last_time(path) == msgs[-1].t
    raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    lines = raw.splitlines()
    first = orjson.loads(lines[1])
    assert set(first) == {"t", "topic", "payload", "cause"}
    assert isinstance(first["payload"], dict) and first["cause"] in ("person", "background",
                                                                     "fault")


def test_markers_are_optional(tmp_path: Path) -> None:
    msgs = [Message(1.5, "anbu/v1/h/pir-1/motion", b'{"ts":1.5,"seq":0,"motion":true}')]
    path = tmp_path / "x.jsonl"
    write_recording(path, {"source": "test"}, [msgs], markers=False)
    line = path.read_bytes().splitlines()[1]
    assert orjson.loads(line) == {"t": 1.5, "topic": "anbu/v1/h/pir-1/motion",
                                  "payload": {"ts": 1.5, "seq": 0, "motion": True}}
    assert next(open_recording(path).messages()).cause == Cause.UNKNOWN


def test_not_a_recording(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text('{"hello": 1}\n')
    with pytest.raises(ValueError, match="not an anbu recording"):
        open_recording(p)


def test_labels_round_trip(tmp_path: Path) -> None:
    labels = [Label("hh-0001", "collapse", 1780000000.123, None),
              Label("hh-0002", "gateway_offline", 1780000100.5, 1780003700.25, "gw-1")]
    path = tmp_path / "l.jsonl"
    write_labels(path, labels)
    first = orjson.loads(path.read_bytes().splitlines()[0])
    assert first == {"household": "hh-0001", "kind": "collapse",
                     "start": "2026-05-28T20:26:40.123+00:00", "end": None}
    back = read_labels(path)
    assert [(b.household, b.kind, b.device) for b in back] == \
        [(a.household, a.kind, a.device) for a in labels]
    assert back[1].end == pytest.approx(labels[1].end, abs=1e-3)


def test_shift_payload() -> None:
    assert orjson.loads(shift_payload(b'{"ts":100.5,"seq":1,"motion":true}', 10)) == \
        {"ts": 110.5, "seq": 1, "motion": True}
    moved = orjson.loads(shift_payload(b'{"ts":"2026-11-22T08:01:12+09:00","seq":4}', 3600))
    assert datetime.fromisoformat(moved["ts"]).isoformat() == "2026-11-22T09:01:12+09:00"
    batch = orjson.loads(shift_payload(b'[{"ts":1,"device":"a"},{"ts":2,"device":"b"}]', 1))
    assert [i["ts"] for i in batch] == [2, 3]
    will = b'{"online":false,"role":"gateway"}'
    assert shift_payload(will, 99) == will


def test_rebase_moves_t_and_ts() -> None:
    msgs = [Message(1000.0, "anbu/v1/h/p/motion", b'{"ts":1000.0,"seq":0,"motion":true}', 1)]
    (out,) = rebase(msgs, 500.0)
    assert out.t == 1500.0 and orjson.loads(out.payload)["ts"] == 1500.0 and out.cause == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


class ListSink:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.at: list[tuple[float, str]] = []

    def send(self, msg: Message) -> None:
        self.at.append((self.clock.now, msg.topic))


def test_pacing_keeps_scaled_inter_arrival_times() -> None:
    clock = FakeClock()
    sink = ListSink(clock)
    msgs = [Message(t, f"anbu/v1/h/d{i}/motion", b"{}") for i, t in
            enumerate([50.0, 60.0, 60.0, 110.0])]
    stats = play(msgs, sink, Pacer(10.0, clock.monotonic, clock.sleep), measure=True)
    assert [round(a - 100.0, 6) for a, _ in sink.at] == [0.0, 1.0, 1.0, 6.0]
    assert stats.sent == 4 and max(stats.lateness) == pytest.approx(0.0)


def test_max_speed_never_sleeps() -> None:
    clock = FakeClock()
    sink = ListSink(clock)
    play([Message(t, "anbu/v1/h/d/motion", b"{}") for t in (0.0, 1e6)], sink,
         Pacer(None, clock.monotonic, clock.sleep))
    assert clock.slept == [] and len(sink.at) == 2


def test_parse_speed() -> None:
    assert parse_speed("max") is None
    assert parse_speed("1") == 1.0 and parse_speed("3600") == 3600.0 and parse_speed("10x") == 10
    for bad in ("fast", "-1", "0"):
        with pytest.raises(ValueError):
            parse_speed(bad)


def test_parse_mqtt_url() -> None:
    # the simulators publish through the kernel's MQTT plumbing (anbu.mqtt), as ingest does
    t = parse_url("mqtt://127.0.0.1:1883")
    assert (t.host, t.port, t.username, t.tls) == ("127.0.0.1", 1883, None, False)
    t = parse_url("mqtt://sim:s%40cret@broker.local")
    assert (t.host, t.port, t.username, t.password) == ("broker.local", 1883, "sim", "s@cret")
    assert (parse_url("mqtts://broker").port, parse_url("mqtts://broker").tls) == (8883, True)
    with pytest.raises(ValueError):
        parse_url("http://broker")

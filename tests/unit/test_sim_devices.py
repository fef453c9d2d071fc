"""Device models: PIR re-trigger and clear, power meter, heartbeats, batteries, faults."""

from __future__ import annotations

from collections import defaultdict

import orjson
import pytest

from anbu.contract import parse_topic
from simulators.core import Cause, Message
from simulators.devices import _pir
from simulators.fleet import Fleet


def _series(msgs: list[Message]) -> dict[tuple[str, str, str], list[Message]]:
    out: dict[tuple[str, str, str], list[Message]] = defaultdict(list)
    for m in msgs:
        t = parse_topic(m.topic)
        assert t is not None
        out[(t.household_id, t.device_id, t.kind)].append(m)
    return out


@pytest.fixture(scope="module")
def normal() -> list[Message]:
    return list(Fleet(8, 3.0, 21).messages())


def test_pir_state_machine() -> None:
    moves = [1000.0 + 5 * i for i in range(60)]  # moving for five minutes
    st: list[float | bool | int] = [False, -1e18, -1e18, 1]
    t, v, c = _pir(moves, [1] * len(moves), st, blind=60.0, clear=90.0, b=1e6)
    trues = [x for x, y in zip(t, v, strict=True) if y == 1.0]
    assert trues == [1000.0, 1060.0, 1120.0, 1180.0, 1240.0]
    assert v[-1] == 0.0 and t[-1] == moves[-1] + 90.0 and c == [1] * len(t)


def test_pir_reports_at_most_once_per_blind_period(normal: list[Message]) -> None:
    checked = 0
    for (_, _, kind), ms in _series(normal).items():
        if kind != "motion":
            continue
        last_true: float | None = None
        for m in ms:
            moving = b'"motion":true' in m.payload
            if moving and last_true is not None:
                assert m.t - last_true >= 30.0 - 1e-3, m
                checked += 1
            last_true = m.t if moving else None
    assert checked > 100


def test_gateway_heartbeat_every_ten_minutes(normal: list[Message]) -> None:
    for (_, dev, kind), ms in _series(normal).items():
        if dev == "gw-1":
            assert kind == "status"
            gaps = [b.t - a.t for a, b in zip(ms, ms[1:], strict=False)]
            assert max(gaps) <= 600.0 + 1e-3 and min(gaps) >= 600.0 - 1e-3
            doc = orjson.loads(ms[0].payload)
            assert doc["role"] == "gateway" and doc["online"] is True and "uptime_s" in doc


def test_batteries_drain(normal: list[Message]) -> None:
    seen = 0
    for (_, dev, kind), ms in _series(normal).items():
        if kind == "status" and dev != "gw-1":
            pct = [orjson.loads(m.payload)["battery_pct"] for m in ms]
            assert pct == sorted(pct, reverse=True) and 0 <= pct[-1] <= 100
            seen += 1
    assert seen > 10


def test_power_meter(normal: list[Message]) -> None:
    for (_, _dev, kind), ms in _series(normal).items():
        if kind != "power":
            continue
        docs = [orjson.loads(m.payload) for m in ms]
        wh = [d["wh"] for d in docs]
        w = [d["w"] for d in docs]
        assert wh == sorted(wh) and min(w) > 10.0 and max(w) > 500.0  # an appliance was on
        gaps = {round(b.t - a.t) for a, b in zip(ms, ms[1:], strict=False)}
        assert gaps == {60}
        # energy adds up: mean watts over the span ~ Wh difference
        hours = (ms[-1].t - ms[0].t) / 3600.0
        assert (wh[-1] - wh[0]) / hours == pytest.approx(sum(w) / len(w), rel=0.05)
        assert any(m.cause == Cause.PERSON for m in ms)
        assert any(m.cause == Cause.BACKGROUND for m in ms)


def test_fridge_cycles_when_nobody_is_home() -> None:
    fleet = Fleet(3, 3.0, 8, scenario_mix="hospitalised")
    msgs = list(fleet.messages())
    series = _series(msgs)
    for lb in fleet.labels():
        ms = [m for m in series[(lb.household, "plug-main", "power")] if m.t > lb.start + 3600]
        w = [orjson.loads(m.payload)["w"] for m in ms]
        # compressor on/off: two levels about 80-130 W apart, switching many times
        steps = [b - a for a, b in zip(w, w[1:], strict=False) if abs(b - a) > 60]
        assert len(steps) > 10
        assert all(m.cause == Cause.BACKGROUND for m in ms)


def test_appliances_switch_on_and_off(normal: list[Message]) -> None:
    for (_, _, kind), ms in _series(normal).items():
        if kind == "appliance":
            states = [orjson.loads(m.payload)["on"] for m in ms]
            assert all(a != b for a, b in zip(states, states[1:], strict=False))


def test_dead_battery_means_silence() -> None:
    fleet = Fleet(4, 4.0, 3, scenario_mix="dead_battery")
    series = _series(list(fleet.messages()))
    for lb in fleet.labels():
        assert lb.device is not None
        own = [m for (h, d, _), ms in series.items() if h == lb.household and d == lb.device
               for m in ms]
        assert own and max(m.t for m in own) < lb.start
        last = [orjson.loads(m.payload)["battery_pct"] for m in own if m.topic.endswith("status")]
        assert last[-1] < 15.0


def test_gateway_offline() -> None:
    fleet = Fleet(4, 4.0, 3, scenario_mix="gateway_offline")
    msgs = list(fleet.messages())
    for lb in fleet.labels():
        assert lb.end is not None
        inside = [m for m in msgs if f"/{lb.household}/" in m.topic and lb.start <= m.t < lb.end]
        assert [m.payload for m in inside] == [b'{"online":false,"role":"gateway"}']
        assert inside[0].t == pytest.approx(lb.start + 90.0, abs=1e-3)
        back = [m for m in msgs if m.topic == f"anbu/v1/{lb.household}/gw-1/status"
                and m.t >= lb.end]
        assert orjson.loads(back[0].payload)["uptime_s"] == 0.0


def test_message_faults_duplicate_and_reorder() -> None:
    fleet = Fleet(3, 3.0, 5, scenario_mix="message_loss")
    series = _series(list(fleet.messages()))
    dups = reordered = gaps = 0
    for ms in series.values():
        payloads = [m.payload for m in ms]
        dups += len(payloads) - len(set(payloads))
        docs = [orjson.loads(p) for p in payloads if b'"seq"' in p]
        ts = [d["ts"] for d in docs]
        reordered += sum(1 for a, b in zip(ts, ts[1:], strict=False) if b < a)
        seqs = sorted({d["seq"] for d in docs})
        gaps += sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b - a > 1)
    assert dups > 20 and reordered > 10 and gaps > 50


def test_spurious_and_stuck_pirs_are_faults() -> None:
    fleet = Fleet(4, 4.0, 9, scenario_mix="spurious_motion,stuck_sensor")
    series = _series(list(fleet.messages()))
    for lb in fleet.labels():
        ms = series[(lb.household, str(lb.device), "motion")]
        faulty = [m for m in ms if m.cause == Cause.FAULT]
        assert faulty and all(m.t >= lb.start for m in faulty)
        if lb.kind == "stuck_sensor":
            after = [m for m in ms if m.t > lb.start]
            assert after and all(b'"motion":true' in m.payload for m in after[1:])
            gaps = {round(b.t - a.t) for a, b in zip(after[1:], after[2:], strict=False)}
            assert gaps <= {30, 60}

"""Scenario mixes and what each scenario does to the stream."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import orjson
import pytest

from anbu.contract import parse_topic
from simulators.core import Cause, Message
from simulators.fleet import Fleet
from simulators.realism import signs_of_life
from simulators.scenarios import KINDS, MIXES, get_mix


def _home(msgs: list[Message], hh: str) -> list[Message]:
    return [m for m in msgs if f"/{hh}/" in m.topic]


def test_named_mixes_and_kind_lists() -> None:
    assert {"none", "default", "incidents", "faults", "all"} <= set(MIXES)
    assert get_mix("collapse,sos").kinds == (("collapse", 1.0), ("sos", 1.0))
    for k in KINDS:
        assert get_mix(k).share == 1.0
    with pytest.raises(ValueError, match="unknown scenario mix"):
        get_mix("zombie_attack")


def test_none_has_no_labels_and_default_some() -> None:
    none = Fleet(10, 1.0, 1)
    list(none.batches())
    assert none.labels() == []
    default = Fleet(40, 2.0, 1, scenario_mix="default")
    list(default.batches())
    assert 1 <= len(default.labels()) < 20


def test_labels_need_the_stream_first() -> None:
    with pytest.raises(RuntimeError):
        Fleet(1, 1.0, 1).labels()


def test_heat_wave_without_cooling() -> None:
    fleet = Fleet(3, 6.0, 2, scenario_mix="heat_wave", start=1785510000.0)  # August
    msgs = list(fleet.messages())
    for lb in fleet.labels():
        assert lb.end is not None
        temps = [orjson.loads(m.payload)["temp_c"] for m in _home(msgs, lb.household)
                 if m.topic.endswith("/env") and lb.start <= m.t < lb.end]
        assert max(temps) > 31.0
    for h in fleet.households:
        plans_ac = [ld for ld in h.bank.meter.loads if ld[3] == "ac"]
        assert all(ld[1] < fleet.labels()[0].start for ld in plans_ac)


def test_decline_means_less_activity() -> None:
    fleet = Fleet(2, 35.0, 4, scenario_mix="decline", personas=(("older_regular", 1.0),))
    msgs = list(fleet.messages())
    for lb in fleet.labels():
        t = signs_of_life(msgs, lb.household)
        first = np.sum(t < fleet.start + 7 * 86400)
        last = np.sum(t >= fleet.end - 7 * 86400)
        assert last < 0.8 * first


def test_abnormal_vitals_are_abnormal_but_plausible() -> None:
    fleet = Fleet(3, 4.0, 5, scenario_mix="abnormal_vitals")
    msgs = list(fleet.messages())
    for lb in fleet.labels():
        assert lb.end is not None
        readings = [(m.t, orjson.loads(m.payload)) for m in _home(msgs, lb.household)
                    if m.topic.endswith("/health")]
        inside = [d for t, d in readings if lb.start <= t < lb.end]
        outside = [d for t, d in readings if not lb.start <= t < lb.end]
        assert inside and all(d.get("systolic_mmhg", 999) >= 175 or d.get("spo2_pct", 0) <= 89
                              for d in inside)
        assert all(d.get("systolic_mmhg", 150) < 170 and d.get("spo2_pct", 95) >= 92
                   for d in outside)


def test_long_outing_is_quiet_inside() -> None:
    fleet = Fleet(3, 6.0, 6, scenario_mix="long_outing")
    msgs = list(fleet.messages())
    assert len(fleet.labels()) == 3
    for lb in fleet.labels():
        assert lb.end is not None and lb.end - lb.start > 9 * 3600
        home = _home(msgs, lb.household)
        inside = [m for m in home if lb.start + 120 < m.t < lb.end - 60
                  and m.cause == Cause.PERSON]
        assert inside == []
        doors = [m.t for m in home if m.topic.endswith("/door") and b'"open":true' in m.payload]
        assert any(-130 < t - lb.start < 5 for t in doors)  # leaves through the front door...
        if lb.end < fleet.end:  # ...and comes back through it (unless the run ends first)
            assert any(abs(t - lb.end) < 5 for t in doors)


def test_all_labels_have_known_kinds_and_devices() -> None:
    fleet = Fleet(len(KINDS), 4.0, 8, scenario_mix="all")
    msgs = list(fleet.messages())
    devices = defaultdict(set)
    for m in msgs:
        t = parse_topic(m.topic)
        assert t is not None
        devices[t.household_id].add(t.device_id)
    kinds = {lb.kind for lb in fleet.labels()}
    assert kinds <= set(KINDS) and len(kinds) >= len(KINDS) - 2
    for lb in fleet.labels():
        assert lb.device is None or lb.device in devices[lb.household]

"""Every simulated message passes the contract validator: no dead letters, ever."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from anbu.contract import parse_topic
from anbu.domain import ReadingFlag
from ingest.decode import decode
from simulators.fleet import Fleet

PERSONAS = ("older_regular", "middle_aged_man", "limited_mobility")


@pytest.mark.parametrize("mix", ["none", "incidents", "faults", "all"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_no_dead_letters(mix: str, persona: str) -> None:
    fleet = Fleet(5, 2.5, 7, scenario_mix=mix, personas=((persona, 1.0),))
    kinds: Counter[str] = Counter()
    n = 0
    for m in fleet.messages():
        d = decode(m.topic, m.payload, datetime.fromtimestamp(m.t, UTC))
        assert d.dead == [], (m, d.dead)
        assert d.readings
        n += len(d.readings)
        t = parse_topic(m.topic)
        assert t is not None
        kinds[t.kind] += 1
        for r in d.readings:
            if r.flags & ReadingFlag.CLOCK_CORRECTED:  # only the deliberately skewed device
                assert mix in ("faults", "all"), m
    assert n > 5 * 2.5 * 500
    assert {"motion", "power", "env", "status"} <= set(kinds)


def test_every_kind_is_emitted_somewhere() -> None:
    fleet = Fleet(12, 3.0, 2, scenario_mix="all")
    kinds = {parse_topic(m.topic).kind for m in fleet.messages()}  # type: ignore[union-attr]
    assert kinds == {"motion", "door", "contact", "power", "appliance", "presence", "water",
                     "health", "button", "env", "status"}


def test_clock_skew_is_corrected_not_dead() -> None:
    fleet = Fleet(3, 4.0, 4, scenario_mix="clock_skew")
    msgs = list(fleet.messages())
    (lb, *_) = fleet.labels()
    corrected = 0
    for m in msgs:
        d = decode(m.topic, m.payload, datetime.fromtimestamp(m.t, UTC))
        assert not d.dead
        for r in d.readings:
            if r.flags & ReadingFlag.CLOCK_CORRECTED:
                corrected += 1
                t = parse_topic(m.topic)
                assert t is not None
                assert any(x.household == t.household_id and x.device == t.device_id
                           and x.start <= m.t < (x.end or 1e12) for x in fleet.labels())
    assert corrected > 0, lb

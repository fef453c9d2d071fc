"""Honest labels: after an incident starts, nothing person-caused; background goes on."""

from __future__ import annotations

from collections import defaultdict

import pytest

from anbu.contract import PERSON_KINDS, parse_topic
from simulators.core import Cause, Message
from simulators.fleet import Fleet
from simulators.incidents import PERSON_INCIDENTS, is_person, strip_person_after

PERSONAS = ("older_regular", "middle_aged_man", "limited_mobility")


def _by_household(msgs: list[Message]) -> dict[str, list[Message]]:
    out: dict[str, list[Message]] = defaultdict(list)
    for m in msgs:
        t = parse_topic(m.topic)
        assert t is not None
        out[t.household_id].append(m)
    return out


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nothing_person_caused_after_an_incident(persona: str, seed: int) -> None:
    days = 4.0
    fleet = Fleet(10, days, seed, scenario_mix=",".join(PERSON_INCIDENTS),
                  personas=((persona, 1.0),))
    msgs = list(fleet.messages())
    labels = fleet.labels()
    assert len(labels) >= 8, "nearly every household should have had its incident"
    homes = _by_household(msgs)
    for lb in labels:
        mine = homes[lb.household]
        after = [m for m in mine if m.t > lb.start]
        person = [m for m in after if m.cause == Cause.PERSON]
        if lb.kind == "fall":  # on the floor, moving weakly: only the bathroom PIR, for a while
            for m in person:
                t = parse_topic(m.topic)
                assert t is not None and t.kind == "motion" and "bathroom" in t.device_id
                assert m.t < lb.start + 3600.0
        else:
            assert person == [], (lb, person[:3])
        # and not by kind either (the kinds a detector treats as signs of life)
        late = lb.start + (3600.0 if lb.kind == "fall" else 0.0)
        for m in after:
            t = parse_topic(m.topic)
            assert t is not None
            if m.t > late and t.kind in PERSON_KINDS:
                pytest.fail(f"{lb.kind} in {lb.household}: {m}")
        # the home goes on without the person: heartbeats, meter, temperature to the very end
        end = fleet.end
        for kind, every in (("status", 600.0), ("power", 60.0), ("env", 600.0)):
            suffix = "/gw-1/status" if kind == "status" else "/" + kind
            ts = [m.t for m in after if m.topic.endswith(suffix)]
            assert ts, (lb, kind)
            assert end - ts[-1] <= every + 1.0
            assert max((b - a for a, b in zip([lb.start, *ts], ts, strict=False)),
                       default=0.0) <= every + 1.0


def test_hospitalised_leaves_by_the_front_door() -> None:
    fleet = Fleet(4, 4.0, 5, scenario_mix="hospitalised")
    msgs = list(fleet.messages())
    homes = _by_household(msgs)
    for lb in fleet.labels():
        person = [m for m in homes[lb.household] if m.cause == Cause.PERSON]
        last = person[-1]
        assert last.topic.endswith("/door") and b'"open":false' in last.payload
        assert b'"exterior":true' in last.payload and last.t <= lb.start


def test_sos_press_is_the_last_thing() -> None:
    fleet = Fleet(4, 4.0, 6, scenario_mix="sos")
    homes = _by_household(list(fleet.messages()))
    for lb in fleet.labels():
        person = [m for m in homes[lb.household] if m.cause == Cause.PERSON]
        assert person[-1].topic.endswith("/button") and b'"action":"sos"' in person[-1].payload
        assert person[-1].t == pytest.approx(lb.start, abs=1e-3)


def test_strip_person_after_injects_an_incident() -> None:
    fleet = Fleet(3, 2.0, 11)
    msgs = list(fleet.messages())
    t0 = fleet.start + 1.4 * 86400.0
    out = list(strip_person_after(msgs, "hh-0002", t0))
    removed = set(msgs) - set(out)
    assert removed and all(m.cause == Cause.PERSON and m.t >= t0 and "/hh-0002/" in m.topic
                           for m in removed)
    kept_after = [m for m in out if "/hh-0002/" in m.topic and m.t >= t0]
    assert kept_after and not any(m.cause == Cause.PERSON for m in kept_after)
    assert [m for m in out if "/hh-0002/" not in m.topic] == \
        [m for m in msgs if "/hh-0002/" not in m.topic]


def test_strip_falls_back_to_kinds_without_markers() -> None:
    t = 1_700_000_000.0
    msgs = [
        Message(t, "anbu/v1/h1/pir-1/motion", b'{"ts":1,"seq":0,"motion":true}'),
        Message(t, "anbu/v1/h1/plug-main/power", b'{"ts":1,"seq":0,"w":50.0}'),
        Message(t, "anbu/v1/h1/gw-1/status", b'{"online":true,"role":"gateway"}'),
        Message(t, "anbu/v1/h1/gw-1/batch",
                b'[{"device":"pir-1","kind":"motion","ts":1,"seq":1,"motion":true},'
                b'{"device":"env-1","kind":"env","ts":1,"seq":1,"temp_c":21.5}]'),
        Message(t, "anbu/v1/h2/pir-1/motion", b'{"ts":1,"seq":0,"motion":true}'),
    ]
    out = list(strip_person_after(msgs, "h1", t - 1))
    assert [m.topic for m in out] == ["anbu/v1/h1/plug-main/power", "anbu/v1/h1/gw-1/status",
                                     "anbu/v1/h1/gw-1/batch", "anbu/v1/h2/pir-1/motion"]
    assert b"pir-1" not in out[2].payload and b"env-1" in out[2].payload
    assert is_person(msgs[0]) and not is_person(msgs[1])
    # a marker wins over the kind: a fault-caused PIR trigger is not the person's
    assert not is_person(msgs[0]._replace(cause=Cause.FAULT))
